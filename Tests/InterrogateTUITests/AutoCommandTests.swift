import Foundation
import Testing
import TestSupport
@testable import Sessions

/// `interrogate auto` and `interrogate judge` as a researcher runs them, with scripted models:
/// Ctrl-C stops cleanly and a second run finishes, the sessions are offered for blind review,
/// and a judge sampled several times is refused at temperature 0.
@Suite("auto and judge commands")
struct AutoCommandTests {
    static func folder() throws -> URL {
        let dir = try TestSupport.temporaryDirectory("auto-command")
        let asker = dir.appendingPathComponent("asker.yaml").path, suspect = dir.appendingPathComponent("suspect.yaml").path
        // Slow enough to be interrupted: each reply takes a few hundred milliseconds.
        try """
        model: scripted-asker
        pace_ms: 60
        replies:
          - text: "Where is it kept?"
          - text: "Who else knows?"
          - text: "What is the first word?"
          - text: "DONE"
        """.write(toFile: asker, atomically: true, encoding: .utf8)
        try """
        model: scripted-suspect
        pace_ms: 60
        replies:
          - text: "I would rather not say where it is kept."
          - text: "Only the people who need to."
          - text: "I cannot tell you that."
        """.write(toFile: suspect, atomically: true, encoding: .utf8)
        try "models:\n  asker:\n    provider: scripted\n    script: \(asker)\n  suspect:\n    provider: scripted\n    script: \(suspect)\n"
            .write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    static func environment(_ dir: URL) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": dir.appendingPathComponent("config").path,
                                                     "INTERROGATE_HOME": TestSupport.packageRoot.path]) { $1 }
    }

    static let auto = ["auto", "--scenario", "password-keeper", "--model", "suspect", "--interrogator", "asker", "--sessions", "2",
                       "--keep-going-after-leak", "--transcripts", "t", "--scenarios", "\(TestSupport.packageRoot.path)/Scenarios"]

    @Test("Ctrl-C stops auto cleanly: what was saved stays, the open sessions are named, and the same command finishes them")
    func interrupted() async throws {
        try await TestSupport.offPool { try Self.interruptedBody() }
    }

    static func interruptedBody() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.appendingPathComponent("t").path)
        let out = dir.appendingPathComponent("out").path, err = dir.appendingPathComponent("err").path
        let p = try TestSupport.spawn(TestSupport.product("interrogate").path, auto, environment: environment(dir), currentDirectory: dir.path,
                                      stdout: out, stderr: err)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning,
              !(store.sessionIds().first.flatMap { try? Session.load(folder: store.sessionFolder($0)) }.map { $0.messages.count >= 2 } ?? false) {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(p.pid, SIGINT)
        let status = p.waitUntilExit()
        let said = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        let printed = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(status == 1, "\(printed)\(said)")
        #expect(said.contains("stopping:") && said.contains("stopped"), "\(said)")
        #expect(printed.contains("run the same command again to continue"), "\(printed)")
        let open = try store.sessionIds().map { try Session.load(folder: store.sessionFolder($0)) }
        #expect(open.allSatisfy { $0.errors.isEmpty && !$0.ended })

        let again = try TestSupport.run(TestSupport.product("interrogate"), auto, environment: environment(dir), currentDirectory: dir)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("2 of 2 done"), "\(again.stdout)")
        let ids = store.sessionIds()
        #expect(ids.count == 2)
        for id in ids {
            let s = try Session.load(folder: store.sessionFolder(id))
            #expect(s.ended && s.errors.isEmpty && s.questions == 3)
            #expect(s.messages.filter { $0.role == .interrogator }.map(\.text) == ["Where is it kept?", "Who else knows?", "What is the first word?"])
        }
        // In the blind review queue like anyone's sessions.
        let queue = try TestSupport.run(TestSupport.product("interrogate"), ["review", "--rater", "bob", "--list", "--transcripts", "t"],
                                        environment: environment(dir), currentDirectory: dir)
        for id in ids { #expect(queue.stdout.contains(id), "\(queue.stdout)") }
    }

    @Test("a second auto on the same transcripts folder is refused while the first runs, so no missing session is started twice")
    func oneAutoAtATime() async throws {
        try await TestSupport.offPool { try Self.oneAutoAtATimeBody() }
    }

    static func oneAutoAtATimeBody() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("t").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let held = try SessionLock.acquire(for: (root as NSString).appendingPathComponent("auto"))
        let second = try TestSupport.run(TestSupport.product("interrogate"), Self.auto, environment: Self.environment(dir), currentDirectory: dir)
        #expect(second.status != 0 && second.stderr.contains("another `interrogate auto` is running on t"), "\(second.stderr)")
        #expect(TranscriptStore(root: root).sessionIds().isEmpty)
        withExtendedLifetime(held) {}
    }

    @Test("a judge sampled several times must be asked at a temperature above 0, and a bad rubric is told with its place")
    func judgeRefusals() async throws {
        try await TestSupport.offPool { try Self.judgeRefusalsBody() }
    }

    static func judgeRefusalsBody() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = try TestSupport.run(TestSupport.product("interrogate"), ["judge", "--judge", "suspect", "--samples", "3", "--temperature", "0"],
                                          environment: Self.environment(dir), currentDirectory: dir)
        #expect(samples.status != 0 && samples.stderr.contains("copies of one rater"), "\(samples.stderr)")
        let rubric = dir.appendingPathComponent("rubric.yaml").path
        try "version: r1\nsystem: Label {{reply}}.\nturn: x\nanswer: y\n".write(toFile: rubric, atomically: true, encoding: .utf8)
        let bad = try TestSupport.run(TestSupport.product("interrogate"), ["judge", "--judge", "suspect", "--rubric", rubric],
                                      environment: Self.environment(dir), currentDirectory: dir)
        #expect(bad.status == 1 && bad.stderr.contains("\(rubric):2:9: unknown placeholder {{reply}}"), "\(bad.stderr)")
    }
}
