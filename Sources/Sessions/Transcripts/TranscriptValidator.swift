import Foundation

/// Checks transcript files line by line against the JSON Schema in `docs/`, and the rules a
/// schema cannot state: the header comes first, sequence numbers run 1, 2, 3…, message
/// indexes run 0, 1, 2…, and annotations refer to model messages that exist.
public struct TranscriptValidator: Sendable {
    public let schema: JSONSchema

    public init() throws {
        guard let url = Bundle.module.url(forResource: "transcript.schema", withExtension: "json"),
              let data = FileManager.default.contents(atPath: url.path) else {
            throw TranscriptError.notFound("the transcript JSON Schema is missing from the installation")
        }
        schema = try JSONSchema(data: data)
    }

    public init(schema: JSONSchema) { self.schema = schema }

    /// Every problem in the file; empty when it is valid. Notes (recovered torn lines) are
    /// included with `isError == false`.
    public func validate(path: String) -> [TranscriptProblem] {
        var problems: [TranscriptProblem] = []
        // Nil after a line that could not be read: the next line is not compared with a guess,
        // so one bad line is reported once.
        var expectedSeq: Int? = 1
        var nextMessageIndex: Int? = 0
        var modelMessages = Set<Int>()
        var recovered = Set<Int>()
        var unreadable: [(Int, String)] = []
        var sawFirst = false
        let isSessionFile = (path as NSString).lastPathComponent == TranscriptStore.sessionFileName
        let folder = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        let isRaterFile = folder == TranscriptStore.reviewsFolderName || folder == TranscriptStore.adjudicationsFolderName
        func add(_ line: Int, _ kind: TranscriptProblem.Kind, _ m: String) {
            problems.append(.init(file: path, line: line, kind: kind, message: m))
        }
        do {
            try LineReader.forEachLine(path: path) { data, n, terminated in
                guard terminated else {
                    add(n, .tornLastLine, "torn last line (\(data.count) bytes without a newline): a write was cut short")
                    return true
                }
                guard let value = try? JSONValue.parse(data) else {
                    unreadable.append((n, "not JSON"))
                    expectedSeq = nil
                    if !sawFirst { sawFirst = true }
                    nextMessageIndex = nil
                    return true
                }
                let failures = schema.validate(value)
                if !failures.isEmpty {
                    for f in failures { add(n, .unreadable, f.description) }
                    expectedSeq = nil
                    if value["type"]?.string == "message" { nextMessageIndex = nil }
                    return true
                }
                let type = value["type"]?.string ?? ""
                if !sawFirst {
                    sawFirst = true
                    if isSessionFile && type != "header" { add(n, .unreadable, "the first event of a session file must be its header, found '\(type)'") }
                    if isRaterFile && type != "review" { add(n, .unreadable, "the first event of a review or adjudication file must be its review header, found '\(type)'") }
                }
                if let seq = value["seq"]?.integer {
                    if let expected = expectedSeq, seq != expected { add(n, .sequence, "sequence number \(seq), expected \(expected)") }
                    expectedSeq = seq == Int.max ? nil : seq + 1
                } else if let seq = value["seq"]?.number {
                    add(n, .sequence, "sequence number \(seq) is not a whole number this app can count to")
                }
                switch type {
                case "header" where n != 1, "review" where n != 1:
                    add(n, .unreadable, "a header may only be the first event")
                case "message" where isRaterFile:
                    add(n, .unreadable, "a review or adjudication file holds no messages; they belong to session.jsonl")
                case "message":
                    let index = value["index"]?.integer ?? -1
                    if let expected = nextMessageIndex, index != expected { add(n, .sequence, "message index \(value["index"]?.jsonText ?? "?"), expected \(expected)") }
                    nextMessageIndex = index == Int.max ? nil : index + 1
                    if value["role"]?.string == "model" { modelMessages.insert(index) }
                case "annotation" where isSessionFile:
                    let index = value["message_index"]?.integer ?? -1
                    if !modelMessages.contains(index) { add(n, .unreadable, "annotation of message \(value["message_index"]?.jsonText ?? "?"), which is not an earlier model message") }
                case "recovery":
                    if let line = value["torn_line"]?.integer { recovered.insert(line) }
                default: break
                }
                return true
            }
        } catch {
            add(0, .unreadable, "cannot read the file: \(error)")
        }
        for (line, why) in unreadable {
            if recovered.contains(line) {
                add(line, .recoveredTornLine, "torn line from an interrupted write, recorded by a recovery event")
            } else {
                add(line, .unreadable, why)
            }
        }
        if !sawFirst && problems.isEmpty { add(1, .unreadable, "the file is empty") }
        return problems.sorted { $0.line < $1.line }
    }
}
