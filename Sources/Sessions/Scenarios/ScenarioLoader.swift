import Crypto
import Foundation
import Yams

/// Reads and validates scenario files. Every problem in a file is reported, each with its
/// `file:line:column`, rather than stopping at the first.
public enum ScenarioLoader {
    static let idPattern = try! NSRegularExpression(pattern: "^[a-z0-9][a-z0-9-]*$")
    static let allowedKeys = ["id", "title", "summary", "secret", "system_prompt", "incentive",
                              "control", "brief", "probes", "turn_limit", "tags"]
    static let secretKeys = ["text", "patterns", "aliases"]
    static let controlKeys = ["system_prompt"]

    /// Loads one file. Throws the file's errors (at least one) if it is not a valid scenario.
    public static func load(path: String) throws(ScenarioErrors) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioErrors([ScenarioError(file: path, line: 1, column: 1, message: "cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioErrors([ScenarioError(file: path, line: 1, column: 1, message: "the file is not UTF-8 text")])
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(ScenarioErrors) -> Scenario {
        var v = Validator(file: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioErrors([v.error(nil, "the file is empty: a scenario needs id, title, secret, system_prompt and brief")])
            }
            root = node
        } catch let e as ScenarioErrors {
            throw e
        } catch {
            throw ScenarioErrors([yamlError(error, file: path)])
        }
        guard let map = root.mapping else {
            throw ScenarioErrors([v.error(root, "a scenario must be a mapping of keys (id, title, secret, …)")])
        }
        v.rejectUnknownKeys(map, allowed: allowedKeys, in: "scenario")

        let id = v.requiredString(map, "id")
        if let id, let node = map["id"], idPattern.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)) == nil {
            v.report(node, "id '\(id)' must be lowercase letters, digits and dashes (e.g. detective-culprit)")
        }
        let title = v.requiredString(map, "title")
        let summary = v.optionalString(map, "summary")
        let systemPrompt = v.requiredString(map, "system_prompt")
        let incentive = v.optionalString(map, "incentive")
        let brief = v.requiredString(map, "brief")
        let probes = v.stringList(map, "probes")
        let tags = v.stringList(map, "tags")

        var turnLimit = Scenario.defaultTurnLimit
        if let node = map["turn_limit"] {
            if let n = node.int, n >= 1 { turnLimit = n } else { v.report(node, "turn_limit must be a whole number ≥ 1") }
        }

        var secret: Scenario.Secret?
        if let node = map["secret"] {
            if let smap = node.mapping {
                v.rejectUnknownKeys(smap, allowed: secretKeys, in: "secret")
                let stext = v.requiredString(smap, "text", parent: node, context: "secret")
                let patterns = v.stringList(smap, "patterns")
                let aliases = v.stringList(smap, "aliases")
                if let pnode = smap["patterns"]?.sequence {
                    for p in pnode {
                        guard let s = p.string else { continue }
                        if s.isEmpty { v.report(p, "empty pattern: it would match every reply"); continue }
                        do { _ = try NSRegularExpression(pattern: s, options: [.caseInsensitive]) } catch {
                            v.report(p, "bad pattern '\(s)': not a valid regular expression")
                        }
                    }
                }
                if let anode = smap["aliases"]?.sequence {
                    for a in anode where a.string?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                        v.report(a, "empty alias: it would match every reply")
                    }
                }
                if patterns.isEmpty && aliases.isEmpty {
                    v.report(node, "secret needs at least one entry in patterns or aliases, so leaks can be suggested")
                }
                if let stext { secret = .init(text: stext, patterns: patterns, aliases: aliases) }
            } else {
                v.report(node, "secret must be a mapping with text, patterns and aliases")
            }
        } else {
            v.report(root, "missing secret: what the model must keep hidden (text, patterns, aliases)")
        }

        var controlPrompt: String?
        if let node = map["control"] {
            if let cmap = node.mapping {
                v.rejectUnknownKeys(cmap, allowed: controlKeys, in: "control")
                controlPrompt = v.requiredString(cmap, "system_prompt", parent: node, context: "control")
            } else {
                v.report(node, "control must be a mapping with a system_prompt (the prompt without the instruction to hide)")
            }
        }

        guard v.errors.isEmpty, let id, let title, let systemPrompt, let brief, let secret else {
            throw ScenarioErrors(v.errors.isEmpty ? [v.error(root, "invalid scenario")] : v.errors)
        }
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return Scenario(id: id, title: title, summary: summary, secret: secret, systemPrompt: systemPrompt,
                        incentive: incentive, controlSystemPrompt: controlPrompt, brief: brief, probes: probes,
                        turnLimit: turnLimit, tags: tags, path: path, source: text, sha256: digest)
    }

    /// Loads every `*.yaml` / `*.yml` file of a folder, sorted by name, and checks that ids are unique.
    public static func loadDirectory(_ dir: String) -> (scenarios: [Scenario], errors: [ScenarioError]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted()
        return loadFiles(names.map { (dir as NSString).appendingPathComponent($0) })
    }

    /// Loads the given files (folders are expanded) and checks that ids are unique across them.
    public static func loadFiles(_ paths: [String]) -> (scenarios: [Scenario], errors: [ScenarioError]) {
        var scenarios: [Scenario] = []
        var errors: [ScenarioError] = []
        var seen: [String: String] = [:]
        for path in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                let sub = loadDirectory(path)
                for s in sub.scenarios { add(s) }
                errors += sub.errors
                continue
            }
            do { add(try load(path: path)) } catch { errors += error.errors }
        }
        func add(_ s: Scenario) {
            if let first = seen[s.id] {
                let mark = idMark(in: s.source)
                errors.append(ScenarioError(file: s.path, line: mark.line, column: mark.column,
                                            message: "duplicate id '\(s.id)': also used by \(first)"))
            } else {
                seen[s.id] = s.path
                scenarios.append(s)
            }
        }
        return (scenarios, errors)
    }

    private static func idMark(in text: String) -> (line: Int, column: Int) {
        if let node = try? Yams.compose(yaml: text), let idNode = node.mapping?["id"], let m = idNode.mark {
            return (m.line, m.column)
        }
        return (1, 1)
    }

    static func yamlError(_ error: Error, file: String) -> ScenarioError {
        guard let y = error as? YamlError else {
            return ScenarioError(file: file, line: 1, column: 1, message: "not valid YAML: \(error)")
        }
        switch y {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ScenarioError(file: file, line: context.mark.line, column: context.mark.column,
                                 message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")): each key may appear once")
        case let .reader(problem, _, _, _):
            return ScenarioError(file: file, line: 1, column: 1, message: "cannot read YAML: \(problem)")
        default:
            return ScenarioError(file: file, line: 1, column: 1, message: "not valid YAML: \(y)")
        }
    }
}

/// All the errors found in one or more scenario files.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ScenarioError]
    public init(_ errors: [ScenarioError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects located errors while reading a scenario's YAML tree.
private struct Validator {
    let file: String
    var errors: [ScenarioError] = []

    func error(_ node: Node?, _ message: String) -> ScenarioError {
        let m = node?.mark
        return ScenarioError(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message)
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

    mutating func stringList(_ map: Node.Mapping, _ key: String) -> [String] {
        guard let node = map[key] else { return [] }
        guard let seq = node.sequence else { report(node, "\(key) must be a list of text items"); return [] }
        var out: [String] = []
        for item in seq {
            if case .scalar = item, let s = item.string { out.append(s) } else { report(item, "each item of \(key) must be text") }
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
}
