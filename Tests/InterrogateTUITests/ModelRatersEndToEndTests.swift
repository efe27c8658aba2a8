import Foundation
import Testing
import TestSupport
@testable import Sessions

/// Offline, end to end: the local model interrogates the local model on two scenarios, three
/// sessions each; `auto` is killed with SIGKILL mid-run and started again; the local model
/// judges every turn; a person reviews one session blind in a terminal; `agree` measures
/// people and the model judge apart.
@Suite("Model interrogators and judges, offline, end to end", .serialized)
struct ModelRatersEndToEndTests {
    static let binary = EndToEndTests.binary
    static let root = EndToEndTests.root
    static let scenarios = ["bank-data-breach", "surprise-party"]

    @Test("auto (killed and continued) runs 2 scenarios × 3 sessions, the local judge labels them, a person reviews one blind, agree prints each kind of rater")
    func offline() async throws {
        try await TestSupport.offPool { try Self.body() }
    }

    static func body() throws {
        let dir = try TestSupport.temporaryDirectory("model-raters-e2e")
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenarioDir = dir.appendingPathComponent("Scenarios"), transcripts = dir.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: scenarioDir, withIntermediateDirectories: true)
        // Two questions per session keep the local model's work to a couple of minutes.
        for s in scenarios {
            let text = try String(contentsOfFile: "\(root)/Scenarios/\(s).yaml", encoding: .utf8)
            try text.replacingOccurrences(of: #"(?m)^turn_limit: \d+"#, with: "turn_limit: 2", options: .regularExpression)
                .write(to: scenarioDir.appendingPathComponent("\(s).yaml"), atomically: true, encoding: .utf8)
        }
        try """
        models:
          suspect:
            provider: local
            parameters: {max_tokens: 40}
          asker:
            provider: local
            parameters: {max_tokens: 40}
          gemma:
            provider: local
        """.write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(
            ["XDG_CONFIG_HOME": dir.appendingPathComponent("config").path, "INTERROGATE_HOME": root]) { $1 }
        let auto = ["auto", "--model", "suspect", "--interrogator", "asker", "--sessions", "3", "--concurrency", "2", "--keep-going-after-leak",
                    "--scenarios", scenarioDir.path, "--transcripts", transcripts.path] + scenarios.flatMap { ["--scenario", $0] }
        func interrogate(_ args: [String]) throws -> TestSupport.Result {
            try TestSupport.run(URL(fileURLWithPath: binary), args, environment: environment, currentDirectory: dir)
        }
        let store = TranscriptStore(root: transcripts.path)
        func files() -> [String: String] {
            Dictionary(uniqueKeysWithValues: store.sessionIds().map { ($0, (try? String(contentsOfFile: store.sessionFile($0), encoding: .utf8)) ?? "") })
        }

        // 1. Killed mid-run, once a session is half-way through.
        let first = try TestSupport.spawn(binary, auto, environment: environment, currentDirectory: dir.path,
                                          stdout: dir.appendingPathComponent("auto1.out").path, stderr: dir.appendingPathComponent("auto1.err").path)
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline, first.isRunning,
              !files().values.contains(where: { $0.components(separatedBy: "\"type\":\"message\"").count - 1 >= 3 }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(first.isRunning, "auto ended before it could be killed: \((try? String(contentsOf: dir.appendingPathComponent("auto1.err"), encoding: .utf8)) ?? "")")
        kill(first.pid, SIGKILL)
        _ = first.waitUntilExit()
        let atKill = files()
        #expect(!atKill.isEmpty)

        // 2. Started again: the open sessions are continued, the missing ones started.
        let second = try interrogate(auto)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("6 of 6 done"), "\(second.stdout)")
        let ids = store.sessionIds()
        #expect(ids.count == 6, "\(ids)")
        for (id, before) in atKill {
            let after = try String(contentsOfFile: store.sessionFile(id), encoding: .utf8)
            // Everything saved before the kill is still there, unchanged (a torn last line is ended and kept).
            let whole = before.hasSuffix("\n") ? before : String(before[..<(before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex)])
            #expect(after.hasPrefix(whole), "session \(id) lost or changed saved events")
        }
        var perScenario: [String: Int] = [:]
        for id in ids {
            let s = try Session.load(folder: store.sessionFolder(id))
            #expect(s.errors.isEmpty, "\(s.errors)")
            #expect(s.ended && s.questions == 2 && s.messages.map(\.index) == Array(0..<s.messages.count))
            #expect(s.header.interrogator?.name == "asker" && s.header.interrogator?.template.version == "interrogator-v1")
            perScenario[s.header.scenario.id, default: 0] += 1
        }
        #expect(perScenario == ["bank-data-breach": 3, "surprise-party": 3])
        let third = try interrogate(auto)
        #expect(third.status == 0 && third.stdout.contains("nothing to do") && store.sessionIds() == ids, "\(third.stdout)")

        // 3. The local model judges every turn.
        let judged = try interrogate(["judge", "--judge", "gemma", "--transcripts", transcripts.path])
        #expect(judged.status == 0, "\(judged.stdout)\(judged.stderr)")
        let turns = try ids.reduce(0) { $0 + (try Session.load(folder: store.sessionFolder($1))).ratableTurns.count }
        #expect(judged.stdout.contains("judge:gemma: labelled \(turns) turn(s) in 6 session(s)"), "\(judged.stdout)")
        let again = try interrogate(["judge", "--judge", "gemma", "--transcripts", transcripts.path])
        #expect(again.stdout.contains("labelled 0 turn(s)") && again.stdout.contains("\(turns) labelled before"), "\(again.stdout)")

        // 4. A person reviews one session blind: the judge's labels never reach the screen.
        let session = try #require(ids.first, "no session was interrogated")
        let review = try Tmux("export XDG_CONFIG_HOME='\(dir.path)/config'; cd '\(dir.path)' && '\(binary)' review \(session) --rater carol --transcripts '\(transcripts.path)'; sleep 5")
        var seen = [try review.waitFor("Tag #1:")]
        try review.press("d")
        try review.press("Enter")
        seen.append(try review.waitFor("Tag #2:"))
        try review.press("r")
        try review.press("Enter")
        seen.append(try review.waitFor("All 2 replies are reviewed"))
        try review.press("C-q")
        seen.append(try review.waitFor("Saved in"))
        let judge = try Session.load(folder: store.sessionFolder(session)).annotations(by: "judge:gemma", from: .review)
        for screen in seen {
            #expect(!screen.contains("judge"), "the judge reached a blind review:\n\(screen)")
            #expect(!screen.contains("gemma"), "the model was shown to a blind reviewer:\n\(screen)")
        }
        #expect(judge.count == 2)

        // 5. agree measures people and the model judge apart.
        let agree = try interrogate(["agree", "--transcripts", transcripts.path])
        #expect(agree.status == 0, "\(agree.stderr)")
        for heading in ["== people", "== model judges", "== people × model judges", "== pooled (people and model judges)"] {
            #expect(agree.stdout.contains(heading), "missing \(heading):\n\(agree.stdout)")
        }
        #expect(agree.stdout.range(of: #"carol\s+judge:gemma\s+2\s"#, options: .regularExpression) != nil, "\(agree.stdout)")
        let report = try interrogate(["report", "--by", "interrogator", "--transcripts", transcripts.path])
        #expect(report.stdout.contains("model:asker") && report.stdout.contains("Raters: people only"), "\(report.stdout)")
        let valid = try interrogate(["transcripts", "validate", transcripts.path])
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
    }
}
