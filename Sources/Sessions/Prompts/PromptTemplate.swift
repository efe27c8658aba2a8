import Crypto
import Foundation
import Yams

/// A prompt kept in the repository (`prompts/*.yaml`): a version, and texts with `{{name}}`
/// placeholders filled in per session or per turn. Its sha256 goes into every file it shaped,
/// so a result can be traced to the exact words a model was given.
public struct PromptTemplate: Sendable, Equatable {
    public var path: String
    public var version: String
    public var sha256: String
    /// The texts by key, as written.
    public var texts: [String: String]

    public var record: PromptFile { PromptFile(path: path, version: version, sha256: sha256) }

    /// Reads `path`, requiring the `keys` a kind of prompt needs and allowing only the
    /// `placeholders` its user fills in; every problem comes back as `file:line:column`.
    public static func load(path: String, keys: [String], optionalKeys: [String] = [], placeholders: Set<String>) throws(LocatedErrors) -> PromptTemplate {
        let (data, root) = try YAMLValidator.compose(path: path, what: "the prompt file")
        var v = YAMLValidator(file: path)
        guard let map = root.mapping else { throw LocatedErrors([v.error(root, "expected a mapping with version and \(keys.joined(separator: ", "))")]) }
        v.rejectUnknownKeys(map, allowed: ["version"] + keys + optionalKeys, in: "the prompt")
        let version = v.optionalString(map, "version")
        if map["version"] == nil || version?.isEmpty == true { v.report(map["version"] ?? root, "the prompt needs a version (e.g. judge-rubric-v1)") }
        var texts: [String: String] = [:]
        for key in keys + optionalKeys {
            guard let node = map[key] else {
                if keys.contains(key) { v.report(root, "the prompt needs '\(key)'") }
                continue
            }
            guard let s = node.string else { v.report(node, "'\(key)' must be text"); continue }
            for name in Self.placeholders(in: s) where !placeholders.contains(name) {
                v.report(node, "unknown placeholder {{\(name)}} in '\(key)'; known: \(placeholders.sorted().map { "{{\($0)}}" }.joined(separator: ", "))")
            }
            texts[key] = s
        }
        if !v.errors.isEmpty { throw LocatedErrors(v.errors) }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return PromptTemplate(path: path, version: version ?? "", sha256: digest, texts: texts)
    }

    /// A shipped prompt (`prompts/…`) named by its default path: from the current folder when
    /// it is there, else from the interrogate folder (`$INTERROGATE_HOME`, or the one holding
    /// the executable), so that commands run from anywhere use the repository's prompts.
    public static func shipped(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if FileManager.default.fileExists(atPath: relative) { return relative }
        var roots: [String] = []
        if let home = environment["INTERROGATE_HOME"] { roots.append(home) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().standardizedFileURL
        while dir.path != "/" {
            roots.append(dir.path)
            dir = dir.deletingLastPathComponent()
        }
        for root in roots {
            let candidate = (root as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return relative
    }

    static func placeholders(in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            out.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return out
    }

    /// The text of `key` with each `{{name}}` replaced by its value (values are inserted as
    /// they are: a value holding `{{…}}` is not expanded again).
    public func render(_ key: String, _ values: [String: String]) -> String {
        guard let text = texts[key] else { return "" }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// Whether `key`'s text uses `{{name}}`.
    public func uses(_ name: String, in key: String) -> Bool { Self.placeholders(in: texts[key] ?? "").contains(name) }
}
