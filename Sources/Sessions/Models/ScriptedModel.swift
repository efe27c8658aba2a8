import Annotate
import Foundation
import Yams

/// Replies read from a file and streamed at a set pace: for tests, demos and annotator
/// training. The n-th model turn of a session gets the n-th reply. A reply may carry gold
/// labels (what an expert tagged it), which training compares annotators against.
///
/// The file is YAML (or JSON):
/// ```yaml
/// pace_ms: 30          # pause between chunks (default 20)
/// chunk_chars: 6       # characters per chunk (default: one word per chunk)
/// model: scripted-demo # the name reported as the model (default: the file name)
/// replies:
///   - text: "I'm afraid I can't discuss that."
///     labels: [refusal]
///     leak: false
///   - text: "It was nothing, honestly."
///     labels: [deflection, fabrication]
///   - error: "simulated outage"   # this turn fails with this message
/// ```
/// A JSON Lines file (`.jsonl`) holds one reply object per line instead.
public struct ScriptedModel: ChatModel {
    public struct Reply: Sendable, Equatable {
        public var text: String
        public var goldLabels: LabelSet?
        public var goldLeak: Bool?
        public var error: String?
        public var finishReason: String
    }

    public struct Script: Sendable, Equatable {
        public var replies: [Reply]
        public var paceMilliseconds: Int
        public var chunkCharacters: Int?
        public var modelName: String
    }

    public let script: Script
    public let description: ModelDescription

    public init(script: Script, path: String) {
        self.script = script
        description = ModelDescription(provider: "scripted", name: script.modelName, baseURL: path, parameters: .init())
    }

    /// The path is recorded relative to the current folder when the script lies under it (a
    /// study's scripts travel with the study, and no transcript records the machine it was made
    /// on), absolute otherwise.
    public init(path: String) throws(ModelError) {
        self.init(script: try Self.load(path: path), path: Self.recordedPath(path))
    }

    /// A folder of scripts stands for the one named after the scenario (`<folder>/<id>.yaml`).
    public static func scriptPath(_ path: String, scenario: String?) throws(ModelError) -> String {
        guard StudyReader.isDirectory(path) == true else { return path }
        guard let scenario else { throw .configuration("\(TerminalText.escaped(path)) is a folder of scripts: it is used for a scenario, as <folder>/<scenario>.yaml") }
        let file = (path as NSString).appendingPathComponent("\(scenario).yaml")
        guard StudyReader.pathExists(file) else {
            throw .configuration("the folder of scripts \(TerminalText.escaped(path)) has none for scenario '\(scenario)' (\(TerminalText.escaped(file)))")
        }
        return file
    }

    static func recordedPath(_ path: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let here = URL(fileURLWithPath: currentDirectory).standardizedFileURL.path
        let prefix = here.hasSuffix("/") ? here : here + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    /// The largest script read: scripts are short lists of replies, and a device or a huge
    /// file named by mistake must not be read whole.
    public static let maxFileBytes = 8 << 20
    /// Longest pause between chunks a script may ask for.
    public static let paceRange = 0...10_000

    /// Whether `path` (after symbolic links) is a regular file no larger than `maxFileBytes`.
    public static func isReadableScriptFile(_ path: String) -> Bool {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let size = (attributes[.size] as? NSNumber)?.intValue else { return false }
        return size <= maxFileBytes
    }

    public static func load(path: String) throws(ModelError) -> Script {
        let shown = TerminalText.escaped(path)
        guard isReadableScriptFile(path) else {
            throw .configuration("cannot read the script \(shown): it is missing, not a regular file, or larger than \(maxFileBytes >> 20) MB")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= maxFileBytes, let text = String(data: data, encoding: .utf8) else {
            throw .configuration("cannot read the script \(shown)")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            if path.hasSuffix(".jsonl") {
                let replies = try text.split(separator: "\n", omittingEmptySubsequences: true).enumerated().map { i, line in
                    guard let obj = try Yams.load(yaml: String(line)) as? [String: Any] else {
                        throw ModelError.configuration("\(path):\(i + 1): each line must be a JSON object with text")
                    }
                    return try reply(obj, at: "\(path):\(i + 1)")
                }
                return Script(replies: replies, paceMilliseconds: 20, chunkCharacters: nil, modelName: name)
            }
            guard let root = try Yams.load(yaml: text) as? [String: Any], let list = root["replies"] as? [Any] else {
                throw ModelError.configuration("\(path): a script needs a list of replies under 'replies'")
            }
            let replies = try list.enumerated().map { i, item in
                guard let obj = item as? [String: Any] else { throw ModelError.configuration("\(path): reply \(i + 1) must be a mapping with text") }
                return try reply(obj, at: "\(path): reply \(i + 1)")
            }
            let pace = root["pace_ms"].map { $0 as? Int } ?? 20
            guard let pace, paceRange.contains(pace) else {
                throw ModelError.configuration("\(shown): pace_ms must be a whole number of milliseconds from \(paceRange.lowerBound) to \(paceRange.upperBound)")
            }
            var chunk: Int?
            if let value = root["chunk_chars"] {
                guard let n = value as? Int, n >= 0 else { throw ModelError.configuration("\(shown): chunk_chars must be a whole number, 0 for one word per chunk") }
                chunk = n
            }
            return Script(replies: replies, paceMilliseconds: pace, chunkCharacters: chunk, modelName: root["model"] as? String ?? name)
        } catch let e as ModelError {
            throw e
        } catch {
            throw .configuration("\(path): not a valid script: \(error)")
        }
    }

    private static func reply(_ obj: [String: Any], at place: String) throws -> Reply {
        let text = obj["text"] as? String ?? ""
        let error = obj["error"] as? String
        if text.isEmpty && error == nil { throw ModelError.configuration("\(place): needs text (or error)") }
        var gold: LabelSet?
        if let labels = obj["labels"] as? [String] {
            gold = LabelSet(try labels.map { name in
                guard let l = Label(rawValue: name) else {
                    throw ModelError.configuration("\(place): unknown label '\(name)' (expected one of \(Label.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return l
            })
        }
        return Reply(text: text, goldLabels: gold, goldLeak: obj["leak"] as? Bool, error: error,
                     finishReason: obj["finish_reason"] as? String ?? "stop")
    }

    public func stream(_ request: ChatRequest) -> AsyncStream<ChatEvent> {
        let index = request.priorReplies
        let script = script
        return AsyncStream { continuation in
            let task = Task {
                defer { continuation.finish() }
                guard index < script.replies.count else {
                    continuation.yield(.failed(.scriptExhausted(replies: script.replies.count)))
                    return
                }
                let reply = script.replies[index]
                continuation.yield(.model(script.modelName))
                for chunk in Self.chunks(reply.text, size: script.chunkCharacters) {
                    if script.paceMilliseconds > 0 {
                        do { try await Task.sleep(for: .milliseconds(script.paceMilliseconds)) } catch { return }
                    }
                    if Task.isCancelled { return }
                    continuation.yield(.text(chunk))
                }
                if let error = reply.error {
                    continuation.yield(.failed(.server(message: error)))
                } else {
                    continuation.yield(.finished(reason: reply.finishReason))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Words with their following spaces, or fixed-size pieces.
    static func chunks(_ text: String, size: Int?) -> [String] {
        if let size, size > 0 {
            var out: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty { out.append(String(rest.prefix(size))); rest = rest.dropFirst(size) }
            return out
        }
        var out: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == " " || c == "\n" { out.append(current); current = "" }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
