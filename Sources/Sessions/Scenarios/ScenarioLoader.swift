import Annotate
import Crypto
import Foundation
import Yams

/// Reads and validates scenario files. Every problem in a file is reported, each with its
/// `file:line:column`, rather than stopping at the first.
public enum ScenarioLoader {
    static let idPattern = try! NSRegularExpression(pattern: "^[a-z0-9][a-z0-9-]*$")
    static let allowedKeys = ["id", "title", "summary", "secret", "system_prompt", "incentive",
                              "control", "brief", "probes", "turn_limit", "tags", "speakers"]
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
        var v = YAMLValidator(file: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioErrors([v.error(nil, "the file is empty: a scenario needs id, title, secret, system_prompt and brief")])
            }
            root = node
        } catch let e as ScenarioErrors {
            throw e
        } catch {
            throw ScenarioErrors([YAMLValidator.yamlError(error, file: path)])
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
                            continue
                        }
                        // Patterns run on every reply of a live session, inside the screen's
                        // update: one that can take exponential or polynomial time would hang it.
                        if let problem = PatternSafety.problem(in: s) {
                            v.report(p, "pattern '\(s)' refused: \(problem.message)")
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

        var speakers = Scenario.Speakers.standard
        if let node = map["speakers"] {
            if let smap = node.mapping {
                v.rejectUnknownKeys(smap, allowed: ["interrogator", "suspect"], in: "speakers")
                for key in ["interrogator", "suspect"] {
                    guard let name = v.requiredString(smap, key, parent: node, context: "speakers") else { continue }
                    // A name ends a turn in the written transcript: it must be one line, without a colon.
                    if name.contains(where: \.isNewline) || name.contains(":") || name.count > 40 {
                        v.report(smap[key], "speakers: \(key) must be a short name on one line, without ':'")
                    } else if key == "interrogator" { speakers.interrogator = name } else { speakers.suspect = name }
                }
                if speakers.interrogator == speakers.suspect { v.report(node, "speakers: the interrogator and the suspect need different names") }
            } else {
                v.report(node, "speakers must be a mapping: {interrogator: Detective, suspect: Daniel}")
            }
        }

        guard v.errors.isEmpty, let id, let title, let systemPrompt, let brief, let secret else {
            throw ScenarioErrors(v.errors.isEmpty ? [v.error(root, "invalid scenario")] : v.errors)
        }
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return Scenario(id: id, title: title, summary: summary, secret: secret, systemPrompt: systemPrompt,
                        incentive: incentive, controlSystemPrompt: controlPrompt, brief: brief, probes: probes,
                        turnLimit: turnLimit, tags: tags, speakers: speakers, path: path, source: text, sha256: digest)
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
}


