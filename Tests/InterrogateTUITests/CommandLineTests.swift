import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI

/// The `interrogate` binary as scripts and people call it.
@Suite("interrogate command line")
struct CommandLineTests {
    static let binary = TestSupport.product("interrogate")
    static let scenarios = TestSupport.packageRoot.appendingPathComponent("Scenarios").path

    func interrogate(_ args: [String], environment: [String: String] = [:]) throws -> TestSupport.Result {
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        env.merge(environment) { $1 }
        return try TestSupport.run(Self.binary, args, environment: env)
    }

    @Test("--help names every command and the exit codes")
    func rootHelp() throws {
        let r = try interrogate(["--help"])
        #expect(r.status == 0)
        for word in ["scenarios", "transcripts", "Exit codes"] { #expect(r.stdout.contains(word), "\(word) missing from help") }
    }

    @Test("each subcommand's --help describes what it does", arguments: [
        (["scenarios", "list", "--help"], "List the scenarios"),
        (["scenarios", "show", "--help"], "the secret and its leak patterns"),
        (["scenarios", "validate", "--help"], "file:line:column"),
        (["transcripts", "validate", "--help"], "torn last line"),
    ])
    func subcommandHelp(args: [String], phrase: String) throws {
        let r = try interrogate(args)
        #expect(r.status == 0)
        #expect(r.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ").contains(phrase), "\(r.stdout)")
    }

    @Test("scenarios validate passes on the shipped scenarios")
    func validateShipped() throws {
        let r = try interrogate(["scenarios", "validate", Self.scenarios])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("scenario(s) valid"))
    }

    @Test("scenarios validate prints file:line:column for a bad file and exits 1")
    func validateBad() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "id: bad\ntitle: Bad\nsecret:\n  text: x\n  patterns: ['[']\nsystem_prompt: s\nbrief: b\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try interrogate(["scenarios", "validate", bad])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(bad):5:14: bad pattern '['"), "\(r.stdout)")
    }

    @Test("scenarios list shows the shipped scenarios, and --format json is machine-readable")
    func list() throws {
        let table = try interrogate(["scenarios", "list", "--scenarios", Self.scenarios])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("ID"))
        let json = try interrogate(["scenarios", "list", "--format", "json"], environment: ["INTERROGATE_SCENARIOS": Self.scenarios])
        #expect(json.status == 0)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(items.count >= 8)
        #expect(items.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
        #expect(table.stdout.split(separator: "\n").count == items.count + 1)
    }

    @Test("scenarios show prints the secret, the brief and the prompts; an unknown id exits 1")
    func show() throws {
        let list = try interrogate(["scenarios", "list", "--format", "json", "--scenarios", Self.scenarios])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let id = try #require(items.first?["id"] as? String)
        let r = try interrogate(["scenarios", "show", id, "--scenarios", Self.scenarios])
        #expect(r.status == 0)
        for heading in ["SECRET", "INTERROGATOR'S BRIEF", "SYSTEM PROMPT (instructed)"] { #expect(r.stdout.contains(heading)) }
        let missing = try interrogate(["scenarios", "show", "no-such-scenario", "--scenarios", Self.scenarios])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no scenario 'no-such-scenario'"))
    }

    @Test("transcripts validate reports a torn last line by file and line, and exits 1")
    func transcriptsValidate() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = TestSupport.product("TranscriptProbe")
        // The probe's header names session "probe": its folder has that name.
        let path = dir.appendingPathComponent("probe/session.jsonl").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("probe").path, withIntermediateDirectories: true)
        #expect(try TestSupport.run(probe, ["create", path]).status == 0)
        #expect(try TestSupport.run(probe, ["append", path, "3", "5", "x"]).status == 0)

        let ok = try interrogate(["transcripts", "validate", dir.path])
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("1 file(s) valid"))

        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.seekToEnd(); try h.write(contentsOf: Data(#"{"v":1,"se"#.utf8)); try h.close()
        let torn = try interrogate(["transcripts", "validate", "--transcripts", dir.path])
        #expect(torn.status == 1)
        #expect(torn.stdout.contains("\(path):5: torn last line"), "\(torn.stdout)")
    }

    @Test("a mistyped option is a usage error with exit code 64")
    func usageError() throws {
        let r = try interrogate(["scenarios", "list", "--format", "xml"])
        #expect(r.status == 64)
    }
}

/// Long reads say how far they have got on a terminal, and nothing extra anywhere else.
@Suite("Progress of long reads")
struct ProgressLineTests {
    @Test("the progress line says what is read, how fast and how long is left, then clears itself")
    func progressLine() {
        var out: [String] = []
        let line = ProgressLine("sessions") { out.append($0) }
        line.start(total: 10)
        Thread.sleep(forTimeInterval: 0.05)
        line.advance(to: 4)
        line.advance(to: 5)   // within 0.2 s of the last: not drawn again
        line.advance(to: 10)  // the end is always drawn
        line.finish()
        #expect(out.count == 3)
        #expect(out[0].hasPrefix("\r4/10 sessions read, ") && out[0].contains("/s, about ") && out[0].hasSuffix(" left\u{1B}[K"))
        #expect(out[1].hasPrefix("\r10/10 sessions read") && !out[1].contains("left"))
        #expect(out[2] == "\r\u{1B}[K")
    }

    @Test("report, agree, export and transcripts validate print no progress when standard error is not a terminal", arguments: [
        ["report", "transcripts/examples"], ["agree", "transcripts/examples"], ["export", "transcripts/examples", "--format", "csv"],
        ["transcripts", "validate", "transcripts/examples"],
    ])
    func noProgressOffTerminal(_ args: [String]) throws {
        let r = try TestSupport.run(CommandLineTests.binary, args, currentDirectory: TestSupport.packageRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "stderr: \(r.stderr.debugDescription)")
    }
}
