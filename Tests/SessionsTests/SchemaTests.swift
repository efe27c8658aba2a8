import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

@Suite("Transcript JSON Schema")
struct SchemaTests {
    static let schemaPath = TestSupport.packageRoot.appendingPathComponent("docs/transcript.schema.json").path

    func writeSession(in dir: URL) throws -> String {
        let store = TranscriptStore(root: dir.path)
        let file = try store.createSession(header: try TranscriptFixtures.header())
        for body in TranscriptFixtures.conversation() { try file.append(body) }
        return file.path
    }

    /// Lines that break the format in one way each, with the message a person should see.
    static let badLines: [(String, String)] = [
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"annotation","message_index":1,"rater":"bob","labels":["sneaky"],"leak":{"suggested":false,"confirmed":false,"matches":[]}}"#, "/labels/0"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"message","index":0,"role":"model","text":"hi"}"#, "missing required property 'status'"),
        (#"{"v":2,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"session_end","reason":"quit"}"#, "/v"),
        (#"{"v":1,"seq":2,"ts":"yesterday","type":"session_end","reason":"quit"}"#, "/ts"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"session_end","reason":"quit","api_key":"sk-123"}"#, "unknown property 'api_key'"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"gossip"}"#, "/type"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"annotation","message_index":1,"rater":"bob","labels":["candid","candid"],"leak":{"suggested":false,"confirmed":false,"matches":[]}}"#, "the same"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"adjudication","message_index":1,"rater":"carol","labels":["candid"],"leak":{"suggested":false,"confirmed":false,"matches":[]},"ratings":[]}"#, "missing required property 'reason'"),
        (#"{"v":1,"seq":2,"ts":"2026-11-28T01:00:00.000Z","type":"adjudication","message_index":1,"rater":"carol","labels":[],"reason":"x","leak":{"suggested":false,"confirmed":false,"matches":[]},"ratings":[]}"#, "at least 1"),
        (#"{"v":1,"seq":1,"ts":"2026-11-28T01:00:00.000Z","type":"review","session_id":"s1","rater":"bob","purpose":"gossip","app":{"name":"interrogate","version":"0.1.0"},"own_session":false}"#, "/purpose"),
    ]

    @Test("the docs/ schema is the one the app checks with")
    func schemaInDocsIsTheShippedOne() throws {
        let docs = try Data(contentsOf: URL(fileURLWithPath: Self.schemaPath))
        let shipped = try Data(contentsOf: Bundle.module.url(forResource: "transcript.schema", withExtension: "json")
            ?? TestSupport.packageRoot.appendingPathComponent("Sources/Sessions/Resources/transcript.schema.json"))
        #expect(docs == shipped)
        _ = try JSONSchema(data: docs)
    }

    @Test("each kind of bad line is rejected with its line number and what is wrong")
    func badLinesRejected() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let validator = try TranscriptValidator()
        let header = try String(contentsOfFile: try writeSession(in: dir), encoding: .utf8).split(separator: "\n")[0]
        for (line, expected) in Self.badLines {
            let path = dir.appendingPathComponent("bad.jsonl").path
            try (header + "\n" + line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let problems = validator.validate(path: path).filter(\.isError)
            #expect(!problems.isEmpty, "accepted: \(line)")
            #expect(problems.allSatisfy { $0.line == 2 })
            #expect(problems.contains { $0.message.contains(expected) }, "\(problems) should mention \(expected)")
        }
    }

    @Test("order rules: header first, no gaps in sequence numbers, annotations of existing model messages")
    func orderRules() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let validator = try TranscriptValidator()
        let lines = try String(contentsOfFile: try writeSession(in: dir), encoding: .utf8).split(separator: "\n").map(String.init)
        let folder = dir.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("session.jsonl").path

        try (Array(lines[0...1]) + [lines[3]]).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(validator.validate(path: path).contains { $0.kind == .sequence && $0.line == 3 })

        try (Array(lines[1...])).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(validator.validate(path: path).contains { $0.message.contains("must be its header") })

        let annotationOfQuestion = lines[3].replacingOccurrences(of: #""message_index":1"#, with: #""message_index":0"#)
        try [lines[0], lines[1], lines[2], annotationOfQuestion].joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(validator.validate(path: path).contains { $0.message.contains("not an earlier model message") })
    }

    @Test("the Swift validator and Python's jsonschema give the same verdict on every line")
    func agreesWithPythonJsonschema() throws {
        let python = TestSupport.venvPython
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "run `make setup` first: .venv is missing")
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var good = try String(contentsOfFile: try writeSession(in: dir), encoding: .utf8).split(separator: "\n").map(String.init)
        // A review and an adjudication, as the review and adjudicate screens write them.
        let store = TranscriptStore(root: dir.path)
        let id = try TranscriptFixtures.header().sessionId
        let review = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: id, rater: "bob", purpose: .review, ownSession: false), sessionFolder: store.sessionFolder(id)).file
        try review.append(.annotation(.init(messageIndex: 1, rater: "bob", annotation: .init(labels: LabelSet([.deflection]), leak: .init(suggested: true, confirmed: false)))))
        let adjudication = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: id, rater: "carol", purpose: .adjudication), sessionFolder: store.sessionFolder(id)).file
        try adjudication.append(.adjudication(.init(messageIndex: 1, rater: "carol", labels: LabelSet([.fabrication]), leak: .init(suggested: true, confirmed: true),
                                                    reason: "states a false code", ratings: [.init(rater: "alice", labels: LabelSet([.fabrication]), leak: true)])))
        for path in [review.path, adjudication.path] {
            good += try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let all = good + Self.badLines.map(\.0)
        let linesPath = dir.appendingPathComponent("lines.jsonl").path
        try (all.joined(separator: "\n") + "\n").write(toFile: linesPath, atomically: true, encoding: .utf8)
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        v = jsonschema.Draft202012Validator(schema)
        for line in open(sys.argv[2]):
            print("valid" if v.is_valid(json.loads(line)) else "invalid")
        """
        let result = try TestSupport.run(python, ["-c", script, Self.schemaPath, linesPath])
        try #require(result.status == 0, "\(result.stderr)")
        let python_verdicts = result.stdout.split(separator: "\n").map(String.init)
        let schema = try JSONSchema(data: Data(contentsOf: URL(fileURLWithPath: Self.schemaPath)))
        let swift_verdicts = try all.map { schema.validate(try JSONValue.parse(Data($0.utf8))).isEmpty ? "valid" : "invalid" }
        #expect(python_verdicts == swift_verdicts)
        #expect(swift_verdicts.filter { $0 == "valid" }.count == good.count)
    }

    @Test("a schema using a keyword the validator does not implement is refused, not half-checked")
    func unsupportedKeyword() {
        #expect(throws: JSONSchema.SchemaError.self) {
            try JSONSchema(data: Data(#"{"type":"object","patternProperties":{"^x":{"type":"string"}}}"#.utf8))
        }
    }
}
