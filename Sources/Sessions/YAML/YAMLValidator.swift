import Foundation
import Yams

/// Collects located errors while reading a YAML tree (scenarios, model configurations).
struct YAMLValidator {
    let file: String
    var errors: [LocatedError] = []

    func error(_ node: Node?, _ message: String) -> LocatedError {
        let m = node?.mark
        return LocatedError(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message)
    }

    mutating func report(_ node: Node?, _ message: String) { errors.append(error(node, message)) }

    mutating func rejectUnknownKeys(_ map: Node.Mapping, allowed: [String], in context: String) {
        for (key, _) in map {
            guard let k = key.string else { report(key, "keys must be text"); continue }
            if !allowed.contains(k) {
                let hint = closest(k, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                report(key, "unknown key '\(k)' in \(context)\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
        }
    }

    mutating func requiredString(_ map: Node.Mapping, _ key: String, parent: Node? = nil, context: String = "scenario") -> String? {
        guard let node = map[key] else {
            let anchor = parent ?? Node.mapping(map)
            report(anchor, "missing \(key) in \(context)")
            return nil
        }
        return nonEmptyString(node, key)
    }

    mutating func optionalString(_ map: Node.Mapping, _ key: String) -> String? {
        guard let node = map[key] else { return nil }
        return nonEmptyString(node, key)
    }

    private mutating func nonEmptyString(_ node: Node, _ key: String) -> String? {
        guard case .scalar(let scalar) = node else { report(node, "\(key) must be text"); return nil }
        if isNull(node) || scalar.string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            report(node, "\(key) must not be empty"); return nil
        }
        return scalar.string
    }

    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    mutating func optionalNumber(_ map: Node.Mapping, _ key: String, minimum: Double? = nil, maximum: Double? = nil) -> Double? {
        guard let node = map[key] else { return nil }
        guard let x = node.float ?? node.int.map(Double.init), x.isFinite else { report(node, "\(key) must be a number"); return nil }
        if let minimum, x < minimum { report(node, "\(key) must be at least \(minimum)"); return nil }
        if let maximum, x > maximum { report(node, "\(key) must be at most \(maximum)"); return nil }
        return x
    }

    mutating func optionalInt(_ map: Node.Mapping, _ key: String, minimum: Int? = nil) -> Int? {
        guard let node = map[key] else { return nil }
        guard let x = node.int else { report(node, "\(key) must be a whole number"); return nil }
        if let minimum, x < minimum { report(node, "\(key) must be at least \(minimum)"); return nil }
        return x
    }

    mutating func optionalBool(_ map: Node.Mapping, _ key: String) -> Bool? {
        guard let node = map[key] else { return nil }
        guard let x = node.bool else { report(node, "\(key) must be true or false"); return nil }
        return x
    }

    mutating func stringList(_ map: Node.Mapping, _ key: String) -> [String] {
        guard let node = map[key] else { return [] }
        guard let seq = node.sequence else { report(node, "\(key) must be a list of text items"); return [] }
        var out: [String] = []
        for item in seq {
            // A plain `null`, `~` or empty item is no text: it must not become the pattern "null".
            if case .scalar(let scalar) = item, !isNull(item) { out.append(scalar.string) } else {
                report(item, "each item of \(key) must be text" + (isNull(item) ? " (found null; quote it if you mean the word)" : ""))
            }
        }
        return out
    }

    private func closest(_ word: String, in candidates: [String]) -> String? {
        candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var prev = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return a.isEmpty ? b.count : prev[b.count]
    }

    static func yamlError(_ error: Error, file: String) -> LocatedError {
        guard let y = error as? YamlError else {
            return LocatedError(file: file, line: 1, column: 1, message: "not valid YAML: \(error)")
        }
        switch y {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return LocatedError(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return LocatedError(file: file, line: context.mark.line, column: context.mark.column,
                                 message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")): each key may appear once")
        case let .reader(problem, _, _, _):
            return LocatedError(file: file, line: 1, column: 1, message: "cannot read YAML: \(problem)")
        default:
            return LocatedError(file: file, line: 1, column: 1, message: "not valid YAML: \(y)")
        }
    }
}

extension YAMLValidator {
    /// The bytes of a small YAML file (a prompt, a probe set) and its root node; an unreadable,
    /// empty or malformed file is one located error naming `what` it should have been.
    static func compose(path: String, what: String) throws(LocatedErrors) -> (Data, Node) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "cannot read \(what)")])
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "\(what) is empty")])
            }
            return (data, node)
        } catch let e as LocatedErrors { throw e } catch {
            throw LocatedErrors([YAMLValidator.yamlError(error, file: path)])
        }
    }
}
