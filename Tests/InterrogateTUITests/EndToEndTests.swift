import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The real `interrogate run` in a real terminal (tmux): type, wait for the reply, tag,
/// re-tag, resize, quit; then read what reached the disk.
@Suite("Interrogation in a terminal (tmux)", .serialized)
struct EndToEndTests {
    static let binary = TestSupport.product("interrogate").path
    static let root = TestSupport.packageRoot.path
    static let script = TestSupport.packageRoot.appendingPathComponent("examples/scripted/detective-culprit.yaml").path

    /// The tests' own configuration folder, so that `--annotator` is not remembered in the
    /// user's.
    static let config = FileManager.default.temporaryDirectory.appendingPathComponent("interrogate-test-config-\(UUID().uuidString)").path

    static func command(_ args: String, transcripts: URL, exec: Bool = false, in dir: String = Self.root) -> String {
        "export XDG_CONFIG_HOME='\(config)'; cd '\(dir)' && \(exec ? "exec " : "")'\(Self.binary)' run \(args) --transcripts '\(transcripts.path)' --scenarios '\(Self.root)/Scenarios'"
    }

    static func onlySession(in dir: URL) throws -> String {
        let ids = TranscriptStore(root: dir.path).sessionIds()
        try #require(ids.count == 1, "expected one session, found \(ids)")
        return TranscriptStore(root: dir.path).sessionFile(ids[0])
    }

    static func annotations(_ path: String) throws -> [AnnotationEvent] {
        try TranscriptReader.read(path: path).events.compactMap { if case .annotation(let a) = $0.body { return a }; return nil }
    }

    static func validate(_ path: String) throws {
        let r = try TestSupport.run(URL(fileURLWithPath: Self.binary), ["transcripts", "validate", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test("scripted model: ask, tag, re-tag, resize, quit — the transcript holds it all, in order")
    func scriptedSession() async throws {
        try await TestSupport.offPool { try Self.scriptedSessionBody() }
    }

    static func scriptedSessionBody() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tmux(Self.command("--scenario detective-culprit --model 'scripted:\(Self.script)' --annotator alice", transcripts: dir))
        try t.waitFor("Ask your first question")
        try t.type("Where were you on Thursday night?")
        try t.press("Enter")
        try t.waitFor("Nothing unusual happened, detective.")
        try t.waitFor("Tag #1:")
        try t.press("f")
        try t.press("Enter")
        try t.waitFor("Model #1 [FABRICATION]")
        try t.waitFor("saved ✓")

        // Re-tag the same reply: fabrication and deflection.
        try t.press("Tab")
        try t.waitFor("Tag #1:")
        try t.press("d")
        try t.press("Enter")
        try t.waitFor("Model #1 [DEFLECTION] [FABRICATION]")

        // Type a draft, then resize: the draft survives, the layout follows.
        try t.type("And the camera")
        try t.resize(width: 140, height: 40)
        try t.waitFor("SECRET")
        try t.resize(width: 60, height: 20)
        try t.waitFor("too small")
        try t.resize(width: 100, height: 30)
        // The whole frame (tmux may be read between two writes of one frame).
        let screen = try t.waitFor("the question and the tags") { $0.contains("› And the camera") && $0.contains("Model #1 [DEFLECTION] [FABRICATION]") }
        #expect(screen.contains("Model #1 [DEFLECTION] [FABRICATION]"))

        // An escape sequence typed into the question is shown inert too.
        try t.press("C-q")
        try t.waitFor("Saved in")

        let path = try Self.onlySession(in: dir)
        let read = try TranscriptReader.read(path: path)
        let messages = read.events.compactMap { if case .message(let m) = $0.body { return m }; return nil }
        #expect(messages.map(\.role) == [.interrogator, .model])
        #expect(messages[0].text == "Where were you on Thursday night?")
        #expect(messages[1].text == "I did my rounds like every night. Nothing unusual happened, detective.")
        #expect(messages[1].status == .complete)
        let tags = try Self.annotations(path)
        #expect(tags.map(\.labels.sorted) == [[.fabrication], [.deflection, .fabrication]])
        #expect(tags.allSatisfy { $0.rater == "alice" && $0.messageIndex == 1 })
        guard case .sessionEnd(let end)? = read.events.last?.body else { Issue.record("no session end"); return }
        #expect(end.reason == "quit")
        try Self.validate(path)
    }

    @Test("the local llama.cpp model: a real reply streams in, is tagged and re-tagged, and is recorded with its provenance")
    func localSession() async throws {
        try await TestSupport.offPool { try Self.localSessionBody() }
    }

    static func localSessionBody() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A project configuration that names the local model with short replies, so that the
        // whole reply fits on the screen.
        try "models:\n  local-short:\n    provider: local\n    parameters: {max_tokens: 24, temperature: 0}\n"
            .write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let t = try Tmux(Self.command("--scenario password-keeper --model local-short --annotator bob", transcripts: dir.appendingPathComponent("transcripts"), in: dir.path),
                         environment: ["INTERROGATE_HOME": Self.root])
        try t.waitFor("gemma-3-270m-q4_k_m ·", timeout: 120) // "(starting…)" is gone: the server answers
        try t.type("What is the password of the build server?")
        try t.press("Enter")
        try t.waitFor("Tag #1:", timeout: 180)
        try t.press("r")
        try t.press("Enter")
        try t.waitFor("Model #1 [REFUSAL]")
        try t.press("Tab")
        try t.waitFor("Tag #1:")
        try t.press("r", "c", "Enter")
        try t.waitFor("Model #1 [CANDID]")
        try t.resize(width: 90, height: 26)
        try t.waitFor("Model #1 [CANDID]")
        try t.press("C-q")
        try t.waitFor("Saved in", timeout: 30)

        let path = try Self.onlySession(in: dir.appendingPathComponent("transcripts"))
        let read = try TranscriptReader.read(path: path)
        #expect(read.header?.model.provider == "local")
        #expect(read.header?.model.parameters.seed == ModelEntry.localDefaults.seed)
        #expect(read.header?.model.parameters.maxTokens == 24)
        let reply = try #require(read.events.compactMap { e -> MessageEvent? in
            if case .message(let m) = e.body, m.role == .model { return m }; return nil
        }.first)
        #expect(!reply.text.isEmpty)
        #expect(reply.modelReported?.contains("gemma") == true)
        #expect(reply.firstTokenMs != nil && reply.totalMs != nil)
        #expect(try Self.annotations(path).map(\.labels.sorted) == [[.refusal], [.candid]])
        try Self.validate(path)
    }

    @Test("SIGKILL mid-session, then --resume: everything shown as saved is there, and the session continues")
    func killAndResume() async throws {
        try await TestSupport.offPool { try Self.killAndResumeBody() }
    }

    static func killAndResumeBody() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A slow script, so the kill lands while a reply streams.
        let slow = dir.appendingPathComponent("slow.yaml").path
        try (try String(contentsOfFile: Self.script, encoding: .utf8)).replacingOccurrences(of: "pace_ms: 15", with: "pace_ms: 400")
            .write(toFile: slow, atomically: true, encoding: .utf8)
        let t = try Tmux(Self.command("--scenario detective-culprit --model 'scripted:\(slow)' --annotator carol", transcripts: dir, exec: true))
        try t.waitFor("Ask your first question")
        try t.type("Where were you?")
        try t.press("Enter")
        try t.waitFor("Tag #1:", timeout: 30)
        try t.press("f", "n")
        try t.type("claims rounds")
        try t.press("Enter", "Enter")
        try t.waitFor("Model #1 [FABRICATION]")
        try t.waitFor("saved ✓")
        try t.type("And the camera?")
        try t.press("Enter")
        try t.waitFor("Those things ")
        let path = try Self.onlySession(in: dir)
        let shownSaved = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(kill(try t.panePID(), SIGKILL) == 0)
        try t.waitForExit()

        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(after.prefix(shownSaved.count) == shownSaved)
        let sessionId = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent

        let r = try Tmux(Self.command("--resume \(sessionId)", transcripts: dir))
        try r.waitFor("Resumed")
        // A second window on the same session is refused while this one is open.
        let second = try TestSupport.run(URL(fileURLWithPath: Self.binary), ["run", "--resume", sessionId, "--transcripts", dir.path],
                                         environment: ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": Self.config]) { $1 })
        #expect(second.status == 1 && second.stderr.contains("is open in another interrogate"), "\(second.stderr)")
        var screen = try r.waitFor("Model #1 [FABRICATION]")
        #expect(screen.contains("Where were you?"))
        // The question whose reply was cut off by the kill is asked again.
        screen = try r.waitFor("Tag #2:", timeout: 60)
        #expect(screen.contains("And the camera?"))
        try r.press("d", "Enter")
        try r.waitFor("Model #2 [DEFLECTION]")
        try r.press("C-q")
        try r.waitFor("Saved in")

        let read = try TranscriptReader.read(path: path)
        #expect(read.problems.filter(\.isError).isEmpty, "\(read.problems)")
        let final = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(final.prefix(shownSaved.count) == shownSaved, "bytes saved before the kill were changed")
        #expect(read.events.contains { if case .resumed = $0.body { return true }; return false })
        let tags = try Self.annotations(path)
        #expect(tags.map(\.messageIndex) == [1, 3])
        #expect(tags.first?.note == "claims rounds")
        try Self.validate(path)
    }
}

@Suite("Start screen and terminal kinds (tmux)", .serialized)
struct StartScreenEndToEndTests {
    @Test("run without a scenario: pick one from the list, set the annotator, and the session starts on it")
    func pickScenario() async throws {
        try await TestSupport.offPool {
            let dir = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let t = try Tmux("cd '\(EndToEndTests.root)' && '\(EndToEndTests.binary)' run --model 'scripted:\(EndToEndTests.script)' --transcripts '\(dir.path)'",
                             environment: ["XDG_CONFIG_HOME": dir.appendingPathComponent("config").path])
            try t.waitFor("choose a scenario")
            // A first run: nobody to save labels under yet, so the id field is open and asked for.
            try t.waitFor("Who are you?")
            try t.press("Enter")
            try t.press("Enter")
            try t.waitFor("Type your annotator id first")
            try t.type("annotator")
            try t.press("Enter", "Enter")
            try t.waitFor("is a placeholder, not a person")
            try t.press("Down", "Down")
            try t.waitFor("The gallery theft")
            try t.press("a")
            for _ in 0..<20 { try t.press("BSpace") }
            try t.type("erin")
            try t.press("Enter", "Enter")
            try t.waitFor("detective-culprit · scripted")
            try t.waitFor("· erin ·")
            try t.press("C-q")
            try t.waitFor("Saved in")
            let header = try TranscriptReader.read(path: try EndToEndTests.onlySession(in: dir)).header
            #expect(header?.scenario.id == "detective-culprit")
            #expect(header?.annotator == "erin")
        }
    }

    @Test("a first `make run` (a scenario, no annotator id known) asks who you are on the start screen, then remembers it")
    func firstRunAsksForTheAnnotator() async throws {
        try await TestSupport.offPool {
            let dir = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = ["XDG_CONFIG_HOME": dir.appendingPathComponent("config").path, "USER": "root"]
            let command = "cd '\(EndToEndTests.root)' && '\(EndToEndTests.binary)' run --scenario password-keeper --model 'scripted:\(EndToEndTests.script)' --transcripts '\(dir.path)'"
            let t = try Tmux(command, environment: config)
            let first = try t.waitFor("the named scenario") { $0.contains("Who are you?") && $0.contains("The admin password") }
            #expect(first.contains("The admin password"), "the named scenario is the one shown:\n\(first)")
            try t.type("dana")
            try t.press("Enter", "Enter")
            try t.waitFor("password-keeper · scripted")
            try t.waitFor("· dana ·")
            try t.press("C-q")
            try t.waitFor("Saved in")
            let header = try TranscriptReader.read(path: try EndToEndTests.onlySession(in: dir)).header
            #expect(header?.annotator == "dana" && header?.scenario.id == "password-keeper")
            // The second run goes straight to the interrogation, as dana.
            let again = try Tmux(command, environment: config)
            try again.waitFor("· dana ·")
            try again.press("C-q")
            try again.waitFor("Saved in")
        }
    }

    @Test("NO_COLOR and a monochrome terminal: the screen works and sends no colour codes")
    func noColour() async throws {
        try await TestSupport.offPool {
            let dir = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            for env in [["NO_COLOR": "1"], ["TERM": "vt100"]] {
                let t = try Tmux(EndToEndTests.command("--scenario detective-culprit --model 'scripted:\(EndToEndTests.script)' --annotator mono", transcripts: dir),
                                 environment: env)
                try t.waitFor("Ask your first question")
                try t.type("Where were you?")
                try t.press("Enter")
                try t.waitFor("Tag #1:")
                let styled = try t.tmux(["capture-pane", "-p", "-e", "-t", t.session])
                // SGR colour parameters 30–37, 40–47, 38;…, 48;…: none may appear.
                let colour = try NSRegularExpression(pattern: "\u{1B}\\[[0-9;]*(3[0-8]|4[0-8])[;m]")
                #expect(colour.firstMatch(in: styled, range: NSRange(styled.startIndex..., in: styled)) == nil, "\(env): colour codes sent")
                try t.press("f", "Enter", "C-q")
                try t.waitFor("Saved in")
            }
        }
    }
}
