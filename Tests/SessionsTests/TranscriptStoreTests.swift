import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

@Suite("Transcript store")
struct TranscriptStoreTests {
    @Test("a session written event by event reads back exactly, in order, with sequence numbers 1…n")
    func roundTrip() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let header = try TranscriptFixtures.header()
        let file = try store.createSession(header: header)
        var written: [TranscriptEvent] = []
        for body in TranscriptFixtures.conversation() { written.append(try file.append(body)) }

        let read = try TranscriptReader.read(path: store.sessionFile(header.sessionId))
        #expect(read.problems.isEmpty)
        #expect(read.header == header)
        #expect(Array(read.events.dropFirst()).map(\.body) == written.map(\.body))
        #expect(read.events.map(\.seq) == Array(1...(written.count + 1)))
        // Timestamps are kept to the millisecond.
        for (a, b) in zip(read.events.dropFirst(), written) {
            #expect(abs(a.timestamp.timeIntervalSince(b.timestamp)) < 0.001)
        }
    }

    @Test("the header records scenario content and hash, model parameters and seed, app version")
    func headerProvenance() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        _ = try store.createSession(header: try TranscriptFixtures.header())
        let line = try String(contentsOfFile: store.sessionFile("20261128-010000-vault-abcd"), encoding: .utf8)
            .split(separator: "\n").first!
        let json = try JSONValue.parse(Data(line.utf8))
        #expect(json["v"] == .int(1))
        #expect(json["seq"] == .int(1))
        #expect(json["type"] == .string("header"))
        #expect(json["scenario"]?["content"]?.string == TranscriptFixtures.scenarioYAML)
        #expect(json["scenario"]?["sha256"]?.string == (try TranscriptFixtures.scenario()).sha256)
        #expect(json["scenario"]?["condition"]?.string == "instructed")
        #expect(json["model"]?["parameters"]?["seed"] == .int(7))
        #expect(json["model"]?["parameters"]?["top_p"]?.number == 1)
        #expect(json["app"]?["version"]?.string == AppVersion.current)
    }

    @Test("every line of a written session validates against the JSON Schema")
    func writtenValidates() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let file = try store.createSession(header: try TranscriptFixtures.header())
        for body in TranscriptFixtures.conversation() { try file.append(body) }
        let problems = try TranscriptValidator().validate(path: file.path)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("a session cannot be created twice: the first one is never overwritten")
    func noOverwrite() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        _ = try store.createSession(header: try TranscriptFixtures.header())
        #expect(throws: TranscriptError.self) { try store.createSession(header: try TranscriptFixtures.header()) }
        #expect(try TranscriptReader.read(path: store.sessionFile("20261128-010000-vault-abcd")).events.count == 1)
    }

    @Test("an annotator id that is not a safe file name is refused")
    func unsafeAnnotator() throws {
        var header = try TranscriptFixtures.header()
        header.annotator = "../eve"
        #expect(throws: TranscriptError.self) { try TranscriptStore(root: "/tmp").createSession(header: header) }
    }

    @Test("a torn last line is reported with its line number and nothing before it is lost")
    func tornLastLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let file = try store.createSession(header: try TranscriptFixtures.header())
        for body in TranscriptFixtures.conversation().prefix(3) { try file.append(body) }
        let handle = try #require(FileHandle(forWritingAtPath: file.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"v":1,"seq":5,"ts":"2026-11-28T01:00:00.000Z","type":"mess"#.utf8))
        try handle.close()

        let read = try TranscriptReader.read(path: file.path)
        #expect(read.events.count == 4)
        #expect(read.problems.count == 1)
        #expect(read.problems.first?.kind == .tornLastLine)
        #expect(read.problems.first?.line == 5)
        #expect(read.problems.first?.description.hasPrefix("\(file.path):5: torn last line") == true)
    }

    @Test("resuming after a torn line keeps the fragment, records a recovery, and continues the sequence")
    func resumeAfterTear() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let file = try store.createSession(header: try TranscriptFixtures.header())
        for body in TranscriptFixtures.conversation().prefix(2) { try file.append(body) }
        let fragment = #"{"v":1,"seq":4,"ts":"2026-11-28T01:0"#
        let handle = try #require(FileHandle(forWritingAtPath: file.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(fragment.utf8))
        try handle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: file.path))

        let (reopened, recovered) = try TranscriptFile.openForAppend(path: file.path)
        #expect(recovered == RecoveryEvent(tornLine: 4, tornBytes: fragment.utf8.count))
        let next = try reopened.append(.resumed(.init(annotator: "alice")))
        #expect(next.seq == 5)

        let after = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(after.prefix(before.count) == before, "bytes already on disk were changed")
        let read = try TranscriptReader.read(path: file.path)
        #expect(read.events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(read.problems.map(\.kind) == [.recoveredTornLine])
        #expect(read.problems.first?.line == 4)
        let validation = try TranscriptValidator().validate(path: file.path)
        #expect(validation.allSatisfy { !$0.isError }, "\(validation)")
    }

    @Test("lines that are not events are reported by line, and the good events still read")
    func unreadableMiddleLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let file = try store.createSession(header: try TranscriptFixtures.header())
        try file.append(TranscriptFixtures.conversation()[0])
        try FileHandle(forWritingAtPath: file.path).map { h in
            try h.seekToEnd(); try h.write(contentsOf: Data("garbage\n".utf8)); try h.close()
        }
        let read = try TranscriptReader.read(path: file.path)
        #expect(read.events.count == 2)
        #expect(read.problems.map(\.line) == [3])
        #expect(read.problems.first?.kind == .unreadable)
    }

    @Test("an appender picks up events another writer added to the same file")
    func twoWritersOneProcess() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let a = try store.createSession(header: try TranscriptFixtures.header())
        let (b, _) = try TranscriptFile.openForAppend(path: a.path)
        #expect(try a.append(.sessionEnd(.init(reason: "a"))).seq == 2)
        #expect(try b.append(.sessionEnd(.init(reason: "b"))).seq == 3)
        #expect(try a.append(.sessionEnd(.init(reason: "a"))).seq == 4)
        #expect(try TranscriptReader.read(path: a.path).problems.isEmpty)
    }

    @Test("session ids sort by start time and are safe folder names")
    func sessionIds() {
        let early = TranscriptStore.newSessionId(scenarioId: "vault", at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = TranscriptStore.newSessionId(scenarioId: "vault", at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(early < late)
        #expect(early.hasPrefix("20231114-221320-vault-"))
        #expect(TranscriptStore.isValidRaterId(early))
    }

    @Test("the transcripts folder comes from the option, else the environment, else ./transcripts")
    func storeLocation() {
        #expect(TranscriptStore.resolve(option: "x", environment: ["INTERROGATE_TRANSCRIPTS": "y"]).root == "x")
        #expect(TranscriptStore.resolve(option: nil, environment: ["INTERROGATE_TRANSCRIPTS": "y"]).root == "y")
        #expect(TranscriptStore.resolve(option: nil, environment: [:]).root == "transcripts")
    }
}
