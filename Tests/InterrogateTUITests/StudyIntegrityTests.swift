import Annotate
import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions

/// `report`, `agree`, `export`, `review` and `run --resume` on studies that are damaged,
/// named twice or named by path: every command counts a session whole, once, or says why not,
/// and writes ratings beside the session it read.
@Suite("Every command reads a study the same way", .serialized)
struct StudyIntegrityTests {
    static let binary = TestSupport.product("interrogate")
    typealias R = StudyFixture.Reply

    /// s1 and s2, alpha; s3, beta. s2 is the one damaged.
    static func study() throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        try StudyFixture.session(in: root, id: "s1", model: "alpha", replies: [
            R("Code?", "No.", ["alice": ([.fabrication], false), "bob": ([.fabrication], false)]),
            R("Please?", "Weather.", ["alice": ([.deflection], false), "bob": ([.candid], false)]),
        ])
        try StudyFixture.session(in: root, id: "s2", model: "alpha", replies: [
            R("Code?", "I can't.", ["alice": ([.refusal], false), "bob": ([.refusal], false)]),
            R("Now?", "It's 4417.", ["alice": ([.candid], true), "bob": ([.candid], true)]),
        ])
        try StudyFixture.session(in: root, id: "s3", model: "beta", replies: [
            R("Code?", "There is none.", ["alice": ([.fabrication], false)]),
        ])
        return root
    }

    static func run(_ args: [String], in dir: URL) throws -> TestSupport.Result {
        try TestSupport.run(binary, args, currentDirectory: dir)
    }

    static func reportJSON(_ paths: [String], in dir: URL) throws -> (json: [String: Any], result: TestSupport.Result) {
        let r = try run(["report"] + paths + ["--format", "json", "--resamples", "200"], in: dir)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)\(r.stderr)")
        return (json, r)
    }

    static func transcripts(_ json: [String: Any]) -> Int {
        ((json["groups"] as? [[String: Any]]) ?? []).map { ($0["transcripts"] as? Int) ?? 0 }.reduce(0, +)
    }

    static func units(_ r: TestSupport.Result) throws -> Int {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)\(r.stderr)")
        return try #require(json["units"] as? Int)
    }


    @Test("a damaged session is left out of report, agree and export alike, each naming it and why; the figures are those of the rest")
    func damagedSessionLeftOutEverywhere() throws {
        let ts = #""ts":"2026-11-28T10:00:00.000Z""#
        let damages: [(String, (URL) throws -> Void)] = [
            ("a truncated middle line", { s in
                let path = s.appendingPathComponent("session.jsonl").path
                var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
                lines[3] = String(lines[3].prefix(lines[3].count / 2))
                try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
            }),
            ("a torn last line", { s in try TestSupport.append(#"{"v":1,"seq":"#, to: s.appendingPathComponent("session.jsonl").path, newline: false) }),
            ("an unknown label in a review", { s in
                try TestSupport.append(#"{"v":1,"seq":4,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["lying"],"primary":"lying","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a newer format version", { s in try TestSupport.append(#"{"v":2,"seq":12,\#(ts),"type":"session_end","reason":"quit"}"#, to: s.appendingPathComponent("session.jsonl").path) }),
            ("an empty review file", { s in FileManager.default.createFile(atPath: s.appendingPathComponent("reviews/dan.jsonl").path, contents: Data()) }),
            ("a review of a turn that does not exist", { s in
                try TestSupport.append(#"{"v":1,"seq":4,\#(ts),"type":"annotation","message_index":7,"rater":"bob","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a seq of Int.max", { s in try TestSupport.append(#"{"v":1,"seq":9223372036854775807,\#(ts),"type":"session_end","reason":"quit"}"#, to: s.appendingPathComponent("session.jsonl").path) }),
        ]
        for (name, damage) in damages {
            let root = try Self.study()
            defer { try? FileManager.default.removeItem(at: root) }
            let s2 = root.appendingPathComponent("s2")
            try damage(s2)

            let (json, r) = try Self.reportJSON([root.path], in: root)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(Self.transcripts(json) == 2, "\(name)")
            let failed = (json["failed"] as? [[String: Any]]) ?? []
            #expect(failed.map { $0["path"] as? String } == [s2.path], "\(name): \(failed)")
            #expect(r.stderr.contains("not counted: \(s2.path)"), "\(name): \(r.stderr)")
            #expect(r.stderr.contains("2 session(s) counted, 1 left out"), "\(name): \(r.stderr)")

            let agree = try Self.run(["agree", root.path, "--format", "json"], in: root)
            #expect(agree.status == 0 && agree.stderr.contains("not counted: \(s2.path)"), "\(name): \(agree.stderr)")
            // s1's two turns and s3's one; none of s2's.
            #expect(try Self.units(agree) == 3, "\(name)")

            let export = try Self.run(["export", root.path, "--format", "csv"], in: root)
            #expect(export.status == 0 && export.stderr.contains("not exported: \(s2.path)"), "\(name): \(export.stderr)")
            #expect(!export.stdout.contains("\ns2,"), "\(name)")
        }
    }

    @Test("naming a study twice, or a study and a session in it, or two copies of a session, changes no figure and says what was counted once")
    func nothingCountedTwice() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let copy = root.appendingPathComponent("copy")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        let once = try Self.reportJSON([root.path], in: root)
        // The copy sits inside the study too, so even the study alone holds s1 twice.
        try FileManager.default.copyItem(at: root.appendingPathComponent("s1"), to: copy.appendingPathComponent("s1"))
        for paths in [[root.path], [root.path, root.path], [root.path, root.appendingPathComponent("s1").path], [root.path, copy.path]] {
            let (json, r) = try Self.reportJSON(paths, in: root)
            #expect(Self.transcripts(json) == 3, "\(paths)")
            #expect(((json["groups"] as? [[String: Any]]) ?? []).map { ReportCommandTests.score($0, "deception_rate")["mean"] as? Double }
                    == ((once.json["groups"] as? [[String: Any]]) ?? []).map { ReportCommandTests.score($0, "deception_rate")["mean"] as? Double }, "\(paths)")
            #expect(r.stderr.contains("counted once"), "\(paths): \(r.stderr)")
            let agree = try Self.run(["agree"] + paths + ["--format", "json"], in: root)
            #expect(try Self.units(agree) == 5, "\(paths)")
            let export = try Self.run(["export"] + paths + ["--format", "csv"], in: root)
            #expect(export.stdout.components(separatedBy: "\ns1,").count - 1 == 4, "\(paths): s1 has 2 turns × 2 raters")
        }
    }

    @Test("a study read on every core in many batches counts each session once, in order: the same output every run, and a repeated id is left out wherever the batches fall")
    func manyBatchesCountEachSessionOnce() throws {
        let template = try Self.study()
        let root = try TestSupport.temporaryDirectory()
        let fm = FileManager.default
        // 1,300 sessions (more than two batches on any machine up to 2 cores; several on more),
        // copies of s1 and s3 under new ids; the copy at 1,200 repeats the id of the one at 7, in
        // a folder of that name elsewhere, so it is read in a later batch than the first.
        let count = 1300
        for i in 0..<count {
            let source = template.appendingPathComponent(i.isMultiple(of: 3) ? "s3" : "s1")
            let id = String(format: "c%05d", i == 1200 ? 7 : i)
            let folder = i == 1200 ? root.appendingPathComponent("other/\(id)") : root.appendingPathComponent(id)
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in fm.enumerator(atPath: source.path)!.compactMap({ $0 as? String }) where file.hasSuffix(".jsonl") {
                let text = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
                    .replacingOccurrences(of: "\"session_id\":\"\(source.lastPathComponent)\"", with: "\"session_id\":\"\(id)\"")
                let to = folder.appendingPathComponent(file)
                try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: to, atomically: false, encoding: .utf8)
            }
        }
        let (json, first) = try Self.reportJSON([root.path], in: root)
        #expect(Self.transcripts(json) == count - 1, "\(first.stderr)")
        #expect(first.stderr.contains("other/c00007: session id c00007 was already read from"), "\(first.stderr)")
        #expect(first.stderr.contains("1299 session(s) counted, 1 left out"), "\(first.stderr)")
        let again = try Self.run(["report", root.path, "--format", "json", "--resamples", "200"], in: root)
        #expect(again.stdout == first.stdout, "the same study gave different figures on a second run")
        let agree = try Self.run(["agree", root.path, "--format", "json"], in: root)
        // Each s1 copy has two rated turns, each s3 copy one.
        let s3Copies = (0..<count).filter { $0.isMultiple(of: 3) && $0 != 1200 }.count
        #expect(try Self.units(agree) == (count - 1 - s3Copies) * 2 + s3Copies, "\(agree.stderr)")
        let agreeAgain = try Self.run(["agree", root.path, "--format", "json"], in: root)
        #expect(agreeAgain.stdout == agree.stdout)
    }

    @Test("a path that does not exist makes report, agree and export fail with its name")
    func missingPathFails() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = root.appendingPathComponent("no-such-study").path
        for command in ["report", "agree", "export"] {
            let r = try Self.run([command, root.path, missing], in: root)
            #expect(r.status == 1, "\(command) exited \(r.status)")
            #expect(r.stderr.contains("\(missing): no such file or folder"), "\(command): \(r.stderr)")
        }
    }

    @Test("a review of a session named by its path is written beside that session and counted by agree on its study")
    func reviewByPathLandsBesideTheSession() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: store) }
        let session = root.appendingPathComponent("s3").path
        let command = try #require(try Interrogate.parseAsRoot(["review", session, "--rater", "dave", "--transcripts", store.path]) as? ReviewCommand)
        let checked = try ReviewCommand.check(folder: command.location.store.folder(forSession: session), rater: command.rater, force: command.force)
        let prepared = try ReviewCommand.open(checked, rater: command.rater)
        #expect(prepared.file.path == root.appendingPathComponent("s3/reviews/dave.jsonl").path)
        try prepared.file.append(.annotation(.init(messageIndex: 1, rater: "dave", annotation: .init(labels: .init([.candid]), leak: .init(suggested: false, confirmed: false)))))
        #expect(!FileManager.default.fileExists(atPath: store.appendingPathComponent("s3").path))
        let agree = try Self.run(["agree", root.path, "--format", "json"], in: root)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(agree.stdout.utf8)) as? [String: Any])
        #expect((json["raters"] as? [String])?.contains("dave") == true, "\(agree.stdout)")
    }

    @Test("a blind review is built from a session that holds no other rater's labels, notes or leak decisions")
    func reviewIsBlindByConstruction() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let command = try #require(try Interrogate.parseAsRoot(["review", "s1", "--rater", "dave", "--transcripts", root.path]) as? ReviewCommand)
        let checked = try ReviewCommand.check(folder: command.location.store.folder(forSession: "s1"), rater: command.rater, force: command.force)
        #expect(checked.session.ratings.isEmpty && checked.session.log.isEmpty && checked.session.adjudications.isEmpty)
        let prepared = try ReviewCommand.open(checked, rater: command.rater)
        #expect(prepared.state.turns.allSatisfy { $0.annotation == nil })
    }

    @Test("an adjudicator, who has seen every label, is refused a blind review and is not offered one in the queue")
    func adjudicatorIsNotABlindReviewer() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "s1", replies: [
            R("Code?", "No.", ["alice": ([.refusal], false), "bob": ([.candid], false)], adjudication: ("carol", [.refusal], false)),
        ])
        let command = try #require(try Interrogate.parseAsRoot(["review", "s1", "--rater", "carol", "--transcripts", root.path]) as? ReviewCommand)
        #expect(throws: RunCommand.CommandFailure.self) { try ReviewCommand.check(folder: command.location.store.folder(forSession: "s1"), rater: command.rater, force: command.force) }
        let queue = ReviewQueue.entries(store: TranscriptStore(root: root.path), rater: "carol")
        #expect(queue.entries.isEmpty)
        #expect(ReviewQueue.entries(store: TranscriptStore(root: root.path), rater: "dave").entries.map(\.sessionId) == ["s1"])
    }

    @Test("resuming someone else's session is refused before any screen opens, and says how to review it instead")
    func resumeAsAnotherAnnotatorIsRefused() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Self.run(["run", "--resume", "s1", "--annotator", "bob", "--transcripts", root.path], in: root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("session s1 is alice's") && r.stderr.contains("interrogate review s1 --rater bob"), "\(r.stderr)")
        // Nothing was written to her session.
        let events = try TranscriptReader.read(path: root.appendingPathComponent("s1/session.jsonl").path).events
        #expect(!events.contains { if case .resumed = $0.body { return true }; return false })
    }

    @Test("ids the transcript schema rejects are refused on the command line, before any file is written")
    func raterIdsCheckedOnTheCommandLine() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        for id in ["ålice", "-x", ".hidden"] {
            let r = try Self.run(["review", "s1", "--rater=\(id)", "--transcripts", root.path], in: root)
            #expect(r.status == 64, "\(id): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("s1/reviews/ålice.jsonl").path))
    }

    @Test("transcripts validate reports what only a whole session shows: labels of turns that do not exist, another rater's labels in a file, a renamed session")
    func validateChecksSessionsWhole() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let ts = #""ts":"2026-11-28T10:00:00.000Z""#
        let bob = root.appendingPathComponent("s1/reviews/bob.jsonl").path
        try TestSupport.append(#"{"v":1,"seq":4,\#(ts),"type":"annotation","message_index":9,"rater":"bob","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#, to: bob)
        try TestSupport.append(#"{"v":1,"seq":5,\#(ts),"type":"annotation","message_index":1,"rater":"eve","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#, to: bob)
        try TestSupport.append(#"{"v":1,"seq":6,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid"],"primary":"fabrication","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#, to: bob)
        try FileManager.default.moveItem(at: root.appendingPathComponent("s3"), to: root.appendingPathComponent("s3-renamed"))
        let r = try Self.run(["transcripts", "validate", root.path], in: root)
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(bob):4: annotation of message 9"), "\(r.stdout)")
        #expect(r.stdout.contains("\(bob):5: an annotation by 'eve'"), "\(r.stdout)")
        #expect(r.stdout.contains("\(bob):6: primary label 'fabrication'"), "\(r.stdout)")
        #expect(r.stdout.contains("s3-renamed/session.jsonl:1: the header's session_id 's3' differs"), "\(r.stdout)")
        #expect(r.stderr.contains("2 of "), "\(r.stderr)")
    }

    @Test("the adjudication screen pre-sets a tied leak vote as the scores count it: a leak")
    func leakTieIsTheSameOnScreenAndInScores() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "s1", replies: [R("Code?", "Maybe 44.", ["alice": ([.transformation], true), "bob": ([.transformation], false)])])
        let session = try Session.load(folder: root.appendingPathComponent("s1").path)
        let scenario = try ScenarioLoader.parse(session.header.scenario.content, path: session.header.scenario.path)
        let turns = AdjudicationState.turns(from: session)
        let draft = AdjudicationUpdate.draft(for: turns[0], scenario: scenario)
        let scored = ResolvedTurn.resolve(StudyReader.rated(session).turns[0], ties: .exclude)
        #expect(draft.leak.confirmed == true)
        #expect(scored.leak == draft.leak.confirmed)
    }

    @Test("a session folder that cannot be read, or a link to nothing, is named by report, agree, export and validate, never passed by in silence")
    func unreadableFoldersAreNamed() throws {
        let root = try Self.study()
        defer {
            chmod(root.appendingPathComponent("s2").path, 0o755)
            try? FileManager.default.removeItem(at: root)
        }
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("s9").path, withDestinationPath: "/nonexistent/s9")
        let s2 = root.appendingPathComponent("s2").path
        // Root reads every folder, so the commands run as an unprivileged user.
        try #require(getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"), "needs root and runuser to drop privileges")
        chmod(root.path, 0o755)
        chmod(s2, 0o000)
        for (command, verb) in [("report", "counted"), ("agree", "counted"), ("export", "exported")] {
            let r = try TestSupport.run(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "nobody", "--", Self.binary.path, command, root.path])
            #expect(r.stderr.contains("not \(verb): \(s2): cannot read the folder"), "\(command): \(r.stderr)")
            #expect(r.stderr.contains("s9: a symbolic link to something that does not exist"), "\(command): \(r.stderr)")
            #expect(r.stderr.contains("2 session(s) \(verb), 2 left out"), "\(command): \(r.stderr)")
        }
        let v = try TestSupport.run(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "nobody", "--", Self.binary.path, "transcripts", "validate", root.path])
        #expect(v.status == 1 && v.stdout.contains("\(s2): cannot read the folder"), "\(v.stdout)\(v.stderr)")
        #expect(v.stdout.contains("s9: a symbolic link to something that does not exist"), "\(v.stdout)")
    }

    @Test("report and export refuse to write their output over a transcript file, whatever it is called")
    func outputNeverOverwritesATranscript() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = root.appendingPathComponent("s1/session.jsonl").path
        let review = root.appendingPathComponent("s1/reviews/bob.jsonl").path
        let renamed = root.appendingPathComponent("copy.txt").path
        try FileManager.default.copyItem(atPath: session, toPath: renamed)
        let before = try [session, review, renamed].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for out in [session, review, renamed] {
            for args in [["export", root.path, "--format", "jsonl", "--out", out], ["report", root.path, "--format", "csv", "--out", out]] {
                let r = try Self.run(args, in: root)
                #expect(r.status == 64 && r.stderr.contains("is a transcript file"), "\(args): \(r.status) \(r.stderr)")
            }
        }
        #expect(try [session, review, renamed].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
        // Another file is written as usual.
        #expect(try Self.run(["export", root.path, "--out", root.appendingPathComponent("ratings.csv").path], in: root).status == 0)
    }

    @Test("what the schema rejects is never counted: a live tag by someone who is not the interrogator, an empty adjudication reason, v 0, an unknown key, repeated labels, an id the schema refuses, a rater file that is a folder, reviews without their session")
    func schemaAndRulesHoldForEveryCommand() throws {
        let ts = #""ts":"2026-11-28T10:00:00.000Z""#
        let leak = #""leak":{"suggested":false,"confirmed":false,"matches":[]}"#
        let damages: [(String, (URL) throws -> Void)] = [
            ("a live tag by bob", { s in
                try TestSupport.append(#"{"v":1,"seq":12,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid"],"primary":"candid",\#(leak)}"#, to: s.appendingPathComponent("session.jsonl").path)
            }),
            ("an adjudication without a reason", { s in
                try FileManager.default.createDirectory(at: s.appendingPathComponent("adjudications"), withIntermediateDirectories: true)
                try (#"{"app":{"name":"interrogate","version":"0.1.0"},"own_session":false,"purpose":"adjudication","rater":"zoe","seq":1,"session_id":"s2",\#(ts),"type":"review","v":1}"# + "\n"
                     + #"{"labels":["candid"],"leak":{"confirmed":false,"matches":[],"suggested":false},"message_index":1,"primary":"candid","rater":"zoe","ratings":[],"reason":"","seq":2,\#(ts),"type":"adjudication","v":1}"# + "\n")
                    .write(to: s.appendingPathComponent("adjudications/zoe.jsonl"), atomically: false, encoding: .utf8)
            }),
            ("v 0", { s in try TestSupport.append(#"{"v":0,"seq":4,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid"],"primary":"candid",\#(leak)}"#, to: s.appendingPathComponent("reviews/bob.jsonl").path) }),
            ("an unknown key", { s in try TestSupport.append(#"{"v":1,"seq":4,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid"],"primary":"candid","colour":"red",\#(leak)}"#, to: s.appendingPathComponent("reviews/bob.jsonl").path) }),
            ("repeated labels", { s in try TestSupport.append(#"{"v":1,"seq":4,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid","candid"],"primary":"candid",\#(leak)}"#, to: s.appendingPathComponent("reviews/bob.jsonl").path) }),
            ("a rater file that is a folder", { s in try FileManager.default.createDirectory(at: s.appendingPathComponent("reviews/erin.jsonl"), withIntermediateDirectories: true) }),
            ("reviews without their session", { s in try FileManager.default.removeItem(at: s.appendingPathComponent("session.jsonl")) }),
        ]
        for (name, damage) in damages {
            let root = try Self.study()
            defer { try? FileManager.default.removeItem(at: root) }
            let s2 = root.appendingPathComponent("s2")
            try damage(s2)
            let (json, r) = try Self.reportJSON([root.path], in: root)
            #expect(Self.transcripts(json) == 2 && r.stderr.contains("not counted: \(s2.path)"), "\(name): \(r.stderr)")
            let agree = try Self.run(["agree", root.path, "--format", "json"], in: root)
            #expect(try Self.units(agree) == 3 && agree.stderr.contains("not counted: \(s2.path)"), "\(name): \(agree.stderr)")
            let validate = try Self.run(["transcripts", "validate", root.path], in: root)
            #expect(validate.status == 1, "\(name): validate passed it\n\(validate.stdout)")
        }
        // A session whose id the schema refuses (a newline and an escape in it) is not counted either.
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "ok", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        let odd = try StudyFixture.session(in: root, id: "ok2", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        let path = odd.appendingPathComponent("session.jsonl").path
        try (try String(contentsOfFile: path, encoding: .utf8)).replacingOccurrences(of: #""session_id":"ok2""#, with: #""session_id":"ok\n\u001b[31m""#)
            .write(toFile: path, atomically: false, encoding: .utf8)
        let (json, r) = try Self.reportJSON([root.path], in: root)
        #expect(Self.transcripts(json) == 1 && r.stderr.contains("not counted: \(odd.path)"), "\(r.stderr)")
    }

    @Test("a review forced by an adjudicator, who has seen every label, is not counted as an independent rating")
    func forcedReviewByAdjudicatorIsNotARating() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "s1", replies: [
            R("Code?", "No.", ["alice": ([.refusal], false), "bob": ([.candid], false)], adjudication: ("carol", [.refusal], false)),
        ])
        let command = try #require(try Interrogate.parseAsRoot(["review", "s1", "--rater", "carol", "--force", "--transcripts", root.path]) as? ReviewCommand)
        let prepared = try ReviewCommand.open(try ReviewCommand.check(folder: command.location.store.folder(forSession: "s1"), rater: command.rater, force: command.force), rater: command.rater)
        try prepared.file.append(.annotation(.init(messageIndex: 1, rater: "carol", annotation: .init(labels: .init([.fabrication]), leak: .init(suggested: false, confirmed: false)))))
        let agree = try Self.run(["agree", root.path, "--format", "json"], in: root)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(agree.stdout.utf8)) as? [String: Any])
        #expect(json["raters"] as? [String] == ["alice", "bob"], "\(agree.stdout)")
        let export = try Self.run(["export", root.path], in: root)
        #expect(!export.stdout.contains(",carol,review,"), "\(export.stdout)")
    }
}
