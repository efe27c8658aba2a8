import Foundation
import Testing
import TestSupport
@testable import Sessions

/// Every command on a team store (`--store` or $INTERROGATE_STORE) as on a folder, against a
/// real PostgreSQL server: the same output, what was written pushed back, one live writer of a
/// session, and a store that goes away losing nothing.
@Suite("Commands on a team store", .serialized)
struct StoreWorkTests {
    static let binary = TestSupport.product("interrogate")

    /// Runs interrogate as a person on their own machine: their own copies folder and config.
    static func interrogate(_ args: [String], store: String? = nil, copies: URL, in dir: URL) throws -> TestSupport.Result {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !$0.key.hasPrefix("INTERROGATE_") }
        if let store { env["INTERROGATE_STORE"] = store }
        env[StoreCopy.environmentVariable] = copies.path
        return try TestSupport.run(binary, args, environment: env, currentDirectory: dir)
    }

    /// A store with the schema, the team study and a plain transcripts folder pushed by the organiser.
    static func organisedStore(_ server: PostgresServer) throws -> (url: String, dir: URL) {
        let db = try server.createDatabase()
        let url = server.url(database: db)
        let dir = try TestSupport.temporaryDirectory("store-work-organiser")
        try StudyFixture.teamStudy(in: dir)
        let transcripts = dir.appendingPathComponent("transcripts")
        try StudyFixture.session(in: transcripts, id: "20261201-000001-vault-0001", model: "model-a", annotator: "alice",
                                 replies: [.init("Code?", "No.", ["alice": ([.refusal], false), "bob": ([.refusal], false)]),
                                           .init("Please?", "It is 1234.", ["alice": ([.fabrication], false), "bob": ([.deflection], false)])])
        try StudyFixture.session(in: transcripts, id: "20261201-000002-vault-0002", model: "model-b", annotator: "bob",
                                 replies: [.init("Code?", "It is 4417.", ["bob": ([.candid], true), "alice": ([.candid], true)])])
        let copies = dir.appendingPathComponent("unused-copies")
        for args in [["store", "init"], ["store", "push", "--study", "demo"], ["store", "push"]] {
            let r = try interrogate(args, store: url, copies: copies, in: dir)
            try #require(r.status == 0, "\(args): \(r.stdout)\(r.stderr)")
        }
        return (url, dir)
    }

    @Test("sessions, report, agree, export and transcripts validate on the store print what they print on the folder it was pushed from")
    func readCommandsMatchTheFolder() throws {
        let server = try PostgresServer.get()
        let (url, dir) = try Self.organisedStore(server)
        let laptop = try TestSupport.temporaryDirectory("store-work-laptop")
        let copies = laptop.appendingPathComponent("copies")
        let folder = ["--transcripts", dir.appendingPathComponent("transcripts").path]
        for command in [["sessions"], ["report", "--format", "csv"], ["agree"], ["export", "--format", "csv"], ["signals"]] {
            let onFolder = try Self.interrogate(command + folder, copies: copies, in: dir)
            let onStore = try Self.interrogate(command, store: url, copies: copies, in: laptop)
            #expect(onStore.status == onFolder.status, "\(command): \(onStore.stderr)")
            #expect(onStore.stdout.replacingOccurrences(of: StoreCopy(address: try StoreAddress.parse(url), environment: [StoreCopy.environmentVariable: copies.path]).transcriptsFolder, with: "FOLDER")
                    == onFolder.stdout.replacingOccurrences(of: dir.appendingPathComponent("transcripts").path, with: "FOLDER"), "\(command)")
            #expect(onStore.stderr.contains("store: pulled"), "\(command): \(onStore.stderr)")
        }
        let validated = try Self.interrogate(["transcripts", "validate", "--store", url], copies: copies, in: laptop)
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        // A second run pulls nothing new and prints the same.
        let again = try Self.interrogate(["sessions"], store: url, copies: copies, in: laptop)
        #expect(again.stderr.contains("store: pulled 0 line(s) in 0 file(s)"), "\(again.stderr)")
    }

    @Test("--store with a folder is refused; a store that cannot be reached refuses the command before it does anything, naming no password")
    func refusals() throws {
        let server = try PostgresServer.get()
        let laptop = try TestSupport.temporaryDirectory("store-work-refusals")
        let copies = laptop.appendingPathComponent("copies")
        let both = try Self.interrogate(["report", "--store", server.url(), "--transcripts", "t"], copies: copies, in: laptop)
        #expect(both.status == 64 && both.stderr.contains("give --store or folders and files"), "\(both.stderr)")
        // $INTERROGATE_STORE gives way to a folder named on the command line.
        let named = try Self.interrogate(["sessions", "--transcripts", laptop.path], store: "postgresql://nobody@127.0.0.1:1/x", copies: copies, in: laptop)
        #expect(named.status == 0 && named.stdout.contains("no sessions in"), "\(named.stderr)")
        let away = try Self.interrogate(["sessions"], store: "postgresql://ana:pa55word-x@127.0.0.1:1/x?sslmode=disable", copies: copies, in: laptop)
        #expect(away.status == 1 && away.stderr.contains("cannot connect to the team store postgresql://ana@127.0.0.1:1/x"), "\(away.stderr)")
        #expect(!away.stderr.contains("pa55word-x"))
        let badStudy = try Self.interrogate(["report", "--study", "../x", "--store", server.url()], copies: copies, in: laptop)
        #expect(badStudy.status == 64, "\(badStudy.stderr)")
        // A session named by its path is a place on this machine, not in the store's copy.
        for command in [["review", "t/20261201-000001-vault-0001/session.jsonl", "--rater", "ana"], ["run", "--resume", "x.jsonl"],
                        ["adjudicate", "t/s1", "--rater", "ana"]] {
            let byPath = try Self.interrogate(command + ["--store", server.url()], copies: copies, in: laptop)
            #expect(byPath.status == 64 && byPath.stderr.contains("give --store or folders and files"), "\(command): \(byPath.stderr)")
        }
    }

    @Test("a study planned on one machine with --store is in the store: another machine's status and report read it, and pulling it gives the same plan")
    func studyOnTheStore() throws {
        let server = try PostgresServer.get()
        let db = try server.createDatabase()
        let url = server.url(database: db)
        let organiser = try TestSupport.temporaryDirectory("store-work-study")
        let scenarios = ["--scenarios", TestSupport.packageRoot.appendingPathComponent("Scenarios").path]
        try FileManager.default.createDirectory(at: organiser.appendingPathComponent("studies/pilot"), withIntermediateDirectories: true)
        try StudyCommandTests.good.write(to: organiser.appendingPathComponent("studies/pilot/study.yaml"), atomically: true, encoding: .utf8)
        let copies = organiser.appendingPathComponent("copies")
        #expect(try Self.interrogate(["store", "init"], store: url, copies: copies, in: organiser).status == 0)
        #expect(try Self.interrogate(["store", "push", "--study", "pilot"], store: url, copies: copies, in: organiser).status == 0)

        let laptop = try TestSupport.temporaryDirectory("store-work-study-laptop")
        let planned = try Self.interrogate(["study", "plan", "pilot"] + scenarios, store: url, copies: laptop.appendingPathComponent("copies"), in: laptop)
        #expect(planned.status == 0 && planned.stdout.contains("Planned round 1 of pilot (seed 3): 4 session(s)"), "\(planned.stdout)\(planned.stderr)")
        #expect(planned.stderr.contains("store: pushed 14 line(s) in 1 file(s)"), "\(planned.stderr)")

        let other = try TestSupport.temporaryDirectory("store-work-study-other")
        let status = try Self.interrogate(["study", "status", "pilot"] + scenarios, store: url, copies: other.appendingPathComponent("copies"), in: other)
        #expect(status.status == 0 && status.stdout.contains("0 of 12 tasks done"), "\(status.stdout)\(status.stderr)")
        let report = try Self.interrogate(["report", "--study", "pilot", "--format", "csv"] + scenarios, store: url, copies: other.appendingPathComponent("copies"), in: other)
        let pulled = try Self.interrogate(["store", "pull", "--study", "pilot"], store: url, copies: copies, in: organiser)
        #expect(pulled.status == 0 && pulled.stdout.contains("pulled 14 line(s) in 1 file(s)"), "\(pulled.stdout)")
        let onFolder = try Self.interrogate(["report", "--study", "pilot", "--format", "csv"] + scenarios, copies: copies, in: organiser)
        #expect(report.status == onFolder.status && report.stdout == onFolder.stdout, "\(report.stderr)")
        let copyPlan = StoreCopy(address: try StoreAddress.parse(url), environment: [StoreCopy.environmentVariable: laptop.appendingPathComponent("copies").path])
            .study("pilot").folder + "/plan.jsonl"
        #expect(try Data(contentsOf: organiser.appendingPathComponent("studies/pilot/plan.jsonl")) == Data(contentsOf: URL(fileURLWithPath: copyPlan)))
    }

    @Test("run --store in a terminal: each saved line reaches the store as it is saved; a second machine's resume is refused while it runs; the server stopped mid-session loses nothing and gets the lines when it is back")
    func liveSessionOnTheStore() async throws {
        try await TestSupport.offPool { try Self.liveSessionBody() }
    }

    static func storedLines(_ server: PostgresServer, _ db: String) throws -> Int {
        Int(try server.psql("SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.kind = 'session'", database: db).output) ?? -1
    }

    static func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(200_000)
        }
        Issue.record("timed out waiting for \(what)")
    }

    static func liveSessionBody() throws {
        // Stopped and started again: this test's own server.
        let server = try PostgresServer.start()
        defer { server.stop() }
        let db = try server.createDatabase()
        let url = server.url(database: db)
        let dir = try TestSupport.temporaryDirectory("store-work-live")
        let copies = dir.appendingPathComponent("copies")
        #expect(try Self.interrogate(["store", "init"], store: url, copies: copies, in: dir).status == 0)
        #expect(try Self.interrogate(["store", "add-rater", server.admin, "--role", "organiser"], store: url, copies: copies, in: dir).status == 0)
        let root = TestSupport.packageRoot.path
        let script = "\(root)/examples/scripted/detective-culprit.yaml"
        let command = "export XDG_CONFIG_HOME='\(dir.path)/config' \(StoreCopy.environmentVariable)='\(copies.path)'; cd '\(root)' && "
            + "'\(Self.binary.path)' run --scenario detective-culprit --model 'scripted:\(script)' --annotator ana --store '\(url)' --scenarios '\(root)/Scenarios'"
        let t = try Tmux(command)
        try t.waitFor("Ask your first question")
        try t.type("Where were you on Thursday night?")
        try t.press("Enter")
        try t.waitFor("Tag #1:")
        try t.press("f", "Enter")
        try t.waitFor("saved ✓")
        let copy = StoreCopy(address: try StoreAddress.parse(url), environment: [StoreCopy.environmentVariable: copies.path])
        let ids = TranscriptStore(root: copy.transcriptsFolder).sessionIds()
        try #require(ids.count == 1, "\(ids)")
        let local = TranscriptStore(root: copy.transcriptsFolder).sessionFile(ids[0])
        func localLines() throws -> Int { try String(contentsOfFile: local, encoding: .utf8).filter { $0 == "\n" }.count }
        // Saved lines reach the store while the session runs.
        try Self.waitUntil("the store to hold the saved lines") { try Self.storedLines(server, db) == localLines() }
        #expect(try localLines() >= 4)

        // Another machine resuming the same session is refused while this one holds it.
        let laptop = try TestSupport.temporaryDirectory("store-work-live-laptop")
        let second = try Self.interrogate(["run", "--resume", ids[0], "--store", url], copies: laptop.appendingPathComponent("copies"), in: laptop)
        #expect(second.status == 1 && second.stderr.contains("is being written by another interrogate"), "\(second.stderr)")

        // The server stops mid-session: the screen still saves to disk.
        let pid = try #require(server.postmasterPID)
        kill(pid, SIGINT)
        try Self.waitUntil("the server to stop") { kill(pid, 0) != 0 }
        let before = try localLines()
        try t.type("And the camera?")
        try t.press("Enter")
        try t.waitFor("Tag #2:")
        try t.press("d", "Enter")
        try t.waitFor("Model #2 [DEFLECTION]")
        try Self.waitUntil("the tag to be saved on disk") { try localLines() >= before + 3 }
        // Back: the waiting lines are sent without the person doing anything.
        try server.launch()
        try Self.waitUntil("the store to get the lines saved while it was away") { try Self.storedLines(server, db) == localLines() }
        try t.press("C-q")
        try t.waitFor("Saved in")

        // What the store holds is the session byte for byte.
        let elsewhere = try TestSupport.temporaryDirectory("store-work-live-pull")
        let pulled = try Self.interrogate(["store", "pull", "--transcripts", elsewhere.path], store: url, copies: copies, in: elsewhere)
        #expect(pulled.status == 0, "\(pulled.stdout)\(pulled.stderr)")
        #expect(try Data(contentsOf: elsewhere.appendingPathComponent("\(ids[0])/session.jsonl")) == Data(contentsOf: URL(fileURLWithPath: local)))
    }

    @Test("a reviewer on the store holds other people's sessions as blind copies (no model, condition or labels), reviews one in the terminal and her review reaches the store; her report counts none of them and says why; an adjudicator's blind copy gives way to the whole session once assigned")
    func blindReviewFromTheStore() async throws {
        try await TestSupport.offPool { try Self.blindReviewBody() }
    }

    static func blindReviewBody() throws {
        // People are roles of the whole server: this test's own server.
        let server = try PostgresServer.start()
        defer { server.stop() }
        let db = try server.createDatabase()
        let url = server.url(database: db)
        let dir = try TestSupport.temporaryDirectory("store-work-blind")
        let copies = dir.appendingPathComponent("copies")
        let transcripts = dir.appendingPathComponent("transcripts")
        let id = "20261201-000001-vault-0001"
        // No labels at all (as a model-run session), pushed first: its lines' numbers in the
        // store and in the blind view are the same.
        let unlabelled = "20261201-000000-vault-0000"
        try StudyFixture.session(in: transcripts, id: unlabelled, model: "secret-model-name", annotator: "alice",
                                 replies: [.init("Hello?", "Hello.")])
        try StudyFixture.session(in: transcripts, id: id, model: "secret-model-name", condition: .control, annotator: "alice",
                                 replies: [.init("Code?", "I will not say.", ["alice": ([.refusal], false), "bob": ([.deflection], false)]),
                                           .init("Please?", "It is 4417.", ["alice": ([.candid], true), "bob": ([.candid], true)])])
        for (args, stdin) in [(["store", "init"], nil), (["store", "add-rater", server.admin, "--role", "organiser"], nil),
                              (["store", "add-rater", "carol", "--role", "reviewer"], "carol-pw\n"),
                              (["store", "add-rater", "dana", "--role", "adjudicator"], "dana-pw\n"), (["store", "push", "--transcripts", transcripts.path], nil)] as [([String], String?)] {
            var r: TestSupport.Result
            if let stdin {
                try stdin.write(to: dir.appendingPathComponent(".stdin"), atomically: true, encoding: .utf8)
                r = try TestSupport.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" \"$@\" < .stdin", Self.binary.path] + args + ["--store", url],
                                        environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !$0.key.hasPrefix("INTERROGATE_") },
                                        currentDirectory: dir)
            } else {
                r = try Self.interrogate(args, store: url, copies: copies, in: dir)
            }
            try #require(r.status == 0, "\(args): \(r.stdout)\(r.stderr)")
        }
        let carol = server.url(user: "carol", password: "carol-pw", database: db)
        let laptop = try TestSupport.temporaryDirectory("store-work-blind-carol")
        let carolCopies = laptop.appendingPathComponent("copies")

        let listed = try Self.interrogate(["sessions"], store: carol, copies: carolCopies, in: laptop)
        #expect(listed.status == 0 && listed.stderr.contains("2 other people's session(s) held as blind copies, for review only (never counted)"), "\(listed.stderr)")
        let copy = StoreCopy(address: try StoreAddress.parse(carol), environment: [StoreCopy.environmentVariable: carolCopies.path])
        let blindFile = copy.transcriptsFolder + "/\(id)/session.jsonl"
        let blindText = try String(contentsOfFile: blindFile, encoding: .utf8)
        for hidden in ["secret-model-name", "\"condition\":\"control\"", "\"refusal\"", "\"deflection\"", "bob"] {
            #expect(!blindText.contains(hidden), "the blind copy holds \(hidden)")
        }
        #expect(blindText.contains("It is 4417.") && blindText.contains("\"blind_copy\":true"))
        // How long each reply took is not in it: every line has the session's start time.
        let times = Set(blindText.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ts"] as? String
        })
        #expect(times.count == 1, "\(times)")
        let validated = try Self.interrogate(["transcripts", "validate", blindFile], copies: carolCopies, in: laptop)
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")

        let report = try Self.interrogate(["report", "--format", "csv"], store: carol, copies: carolCopies, in: laptop)
        #expect(report.stderr.contains("a blind copy from the team store") && report.stderr.contains("never counted"), "\(report.stderr)")
        #expect(!report.stdout.contains("withheld"), "\(report.stdout)")

        // Her review, in the terminal: the messages, the model withheld, her tags saved and pushed.
        let command = "export XDG_CONFIG_HOME='\(laptop.path)/config' \(StoreCopy.environmentVariable)='\(carolCopies.path)'; cd '\(laptop.path)' && "
            + "'\(Self.binary.path)' review \(id) --rater carol --store '\(carol)'"
        let t = try Tmux(command)
        let screen = try t.waitFor("the blind review") { $0.contains("I will not say.") && $0.contains("BLIND REVIEW") }
        #expect(screen.contains("BLIND REVIEW") && !screen.contains("secret-model-name") && !screen.contains("control ·"), "\(screen)")
        try t.waitFor("Tag #1:")
        try t.press("f", "Enter")
        try t.waitFor("Tag #2:")
        try t.press("c", "Enter")
        try t.waitFor("saved ✓")
        try t.press("C-q")
        try t.waitForExit()
        let inStore = try server.psql("SELECT count(*) FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id WHERE f.path = '\(id)/reviews/carol.jsonl'", database: db)
        #expect(Int(inStore.output) ?? 0 >= 3, "\(inStore.output)")
        let organiserCount = try server.psql("SELECT count(*) FROM interrogate_files WHERE path LIKE '%session.jsonl'", database: db)
        #expect(organiserCount.output == "2", "a blind copy was pushed: \(organiserCount.output)")

        // A review written in her copy under another name is not pushed, and she is told (exit 1).
        let planted = copy.transcriptsFolder + "/\(id)/reviews/zed.jsonl"
        try (try String(contentsOfFile: copy.transcriptsFolder + "/\(id)/reviews/carol.jsonl", encoding: .utf8))
            .replacingOccurrences(of: "\"carol\"", with: "\"zed\"").write(toFile: planted, atomically: true, encoding: .utf8)
        let listing = try Self.interrogate(["review", "--rater", "carol", "--list"], store: carol, copies: carolCopies, in: laptop)
        #expect(listing.status == 1 && listing.stderr.contains("1 file(s) written in another person's name are not in the store"), "\(listing.stderr)")

        // Dana adjudicates: blind until she is assigned the session, then whole.
        let dana = server.url(user: "dana", password: "dana-pw", database: db)
        let danaLaptop = try TestSupport.temporaryDirectory("store-work-blind-dana")
        let danaCopies = danaLaptop.appendingPathComponent("copies")
        _ = try Self.interrogate(["sessions"], store: dana, copies: danaCopies, in: danaLaptop)
        let danaFile = StoreCopy(address: try StoreAddress.parse(dana), environment: [StoreCopy.environmentVariable: danaCopies.path]).transcriptsFolder + "/\(id)/session.jsonl"
        #expect(try String(contentsOfFile: danaFile, encoding: .utf8).contains("\"blind_copy\":true"))
        for session in [id, unlabelled] {
            #expect(try Self.interrogate(["store", "assign", session, "--adjudicator", "dana"], store: url, copies: copies, in: dir).status == 0)
        }
        let whole = try Self.interrogate(["sessions"], store: dana, copies: danaCopies, in: danaLaptop)
        #expect(whole.status == 0, "\(whole.stderr)")
        for session in [id, unlabelled] {
            let file = (danaFile as NSString).deletingLastPathComponent + "/../\(session)/session.jsonl"
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(contentsOf: transcripts.appendingPathComponent("\(session)/session.jsonl")), "\(session)")
        }
        // Other people's files she was given whole are not hers to push, and nothing of hers is
        // in them: a command that writes is not an error, with or without the copy's memory of them.
        let danaCopy = StoreCopy(address: try StoreAddress.parse(dana), environment: [StoreCopy.environmentVariable: danaCopies.path])
        let quiet = try Self.interrogate(["review", "--rater", "dana", "--list"], store: dana, copies: danaCopies, in: danaLaptop)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        // A fragment a crash left at the end of one (so the pull does not vouch for it): still nothing of hers.
        let alices = danaCopy.transcriptsFolder + "/\(unlabelled)/session.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: alices))
        handle.seekToEndOfFile()
        handle.write(Data("{\"v\":1,\"se".utf8))
        try handle.close()
        let torn = try Self.interrogate(["review", "--rater", "dana", "--list"], store: dana, copies: danaCopies, in: danaLaptop)
        #expect(torn.status == 0 && torn.stderr.contains("torn"), "\(torn.stderr)")
    }
}
