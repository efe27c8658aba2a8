import Annotate
import Foundation
import Sessions
import Testing
import TestSupport

/// The team store against a real PostgreSQL server the tests start (initdb, a free port).
@Suite("Team store on PostgreSQL", .serialized)
struct TeamStoreTests {
    /// A new database with the schema applied, and its address as the admin (an organiser).
    static func freshStore(on own: PostgresServer? = nil) async throws -> (server: PostgresServer, database: String, admin: StoreAddress) {
        let server = try own ?? PostgresServer.get()
        let db = try server.createDatabase()
        let admin = try StoreAddress.parse(server.url(database: db))
        let store = try await TeamStore.connect(admin, checkSchema: false)
        let result = try await store.initialise()
        #expect(result.applied == Array(1...(try StoreMigrations.bundled().count)))
        _ = try await store.addRater(server.admin, role: .organiser, password: nil)
        await store.close()
        return (server, db, admin)
    }

    static func studyFolder(_ root: URL) throws -> StoreCollection {
        .study(name: "demo", folder: try StudyFixture.teamStudy(in: root).path)
    }

    /// Every file under `folder` (not lock files) with its bytes.
    static func contents(_ folder: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: folder)
        while let rel = e?.nextObject() as? String {
            let full = (folder as NSString).appendingPathComponent(rel)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
                  !(rel as NSString).lastPathComponent.hasPrefix(".") else { continue }
            out[rel] = FileManager.default.contents(atPath: full)
        }
        return out
    }

    @Test("store init applies the schema once; a second init changes nothing; a newer or different schema is refused with a clear message")
    func initIsVersioned() async throws {
        let (server, db, admin) = try await Self.freshStore()
        let store = try await TeamStore.connect(admin, checkSchema: false)
        let again = try await store.initialise()
        let newest = try StoreMigrations.bundled().count
        #expect(again.applied.isEmpty && again.version == newest)
        await store.close()

        // A database from a newer interrogate.
        #expect(try server.psql("INSERT INTO interrogate_migrations (version, name, sha256) VALUES (\(newest + 1), 'future', 'x')", database: db).status == 0)
        await #expect { try await TeamStore.connect(admin) } throws: { "\($0)".contains("schema version \(newest + 1), newer than this interrogate reads (\(newest)): upgrade interrogate") }

        // A database from an older interrogate: its owner is told to upgrade it, and init does.
        let older = try server.createDatabase()
        let olderAddress = try StoreAddress.parse(server.url(database: older))
        let migrations = try StoreMigrations.bundled()
        #expect(try server.psql("CREATE TABLE interrogate_migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_by name NOT NULL DEFAULT current_user, applied_at timestamptz NOT NULL DEFAULT now())", database: older).status == 0)
        #expect(try server.psql(migrations[0].sql, database: older).status == 0)
        #expect(try server.psql("INSERT INTO interrogate_migrations (version, name, sha256) VALUES (1, '\(migrations[0].name)', '\(migrations[0].sha256)')", database: older).status == 0)
        // A study planned in two rounds before the upgrade: the upgrade counts both, in order.
        let plan = [#"{"type":"round","round":1,"seed":1,"study_sha256":"a","planned":"x","tasks":1}"#,
                    #"{"type":"task","id":"t1","round":1,"kind":"session","annotator":"ana","order":1,"model":"m","alias":"A","scenario":"v","condition":"control"}"#,
                    #"{"type":"round_end","round":1,"tasks":1}"#,
                    #"{"type":"round","round":2,"seed":2,"study_sha256":"a","planned":"y","tasks":1}"#,
                    #"{"type":"task","id":"t2","round":2,"kind":"review","annotator":"ben","order":1,"session_task":"t1"}"#,
                    #"{"type":"round_end","round":2,"tasks":1}"#]
        #expect(try server.psql("INSERT INTO interrogate_files (collection, path, kind) VALUES ('studies/old', 'plan.jsonl', 'plan')", database: older).status == 0)
        for (i, line) in plan.enumerated() {
            #expect(try server.psql("INSERT INTO interrogate_lines (file, line_no, body) SELECT id, \(i + 1), convert_to('\(line)', 'UTF8') FROM interrogate_files", database: older).status == 0)
        }
        await #expect { try await TeamStore.connect(olderAddress) } throws: { "\($0)".contains("has schema version 1; this interrogate needs \(newest): the store's owner runs `interrogate store init") }
        let upgrading = try await TeamStore.connect(olderAddress, checkSchema: false)
        #expect(try await upgrading.initialise().applied == Array(2...newest))
        await upgrading.close()
        #expect(try server.psql("SELECT string_agg(id, ',' ORDER BY id) FROM interrogate_plan_tasks", database: older).output == "t1,t2")
        #expect(try server.psql("SELECT count(*) FROM interrogate_plan_refused", database: older).output == "0")
        await (try await TeamStore.connect(olderAddress)).close()

        // A database whose version 1 came from another file.
        let other = try server.createDatabase()
        #expect(try server.psql("CREATE TABLE interrogate_migrations (version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_by name DEFAULT current_user, applied_at timestamptz DEFAULT now()); INSERT INTO interrogate_migrations (version, name, sha256) VALUES (1, '0001-team-store', 'abc')", database: other).status == 0)
        let otherStore = try await TeamStore.connect(try StoreAddress.parse(server.url(database: other)), checkSchema: false)
        await #expect { try await otherStore.initialise() } throws: { "\($0)".contains("from a different file than this interrogate's") }
        await otherStore.close()
        await #expect { try await TeamStore.connect(try StoreAddress.parse(server.url(database: other))) } throws: {
            "\($0)".contains("from a different file than this interrogate's")
        }

        // Not a store at all.
        let empty = try server.createDatabase()
        await #expect { try await TeamStore.connect(try StoreAddress.parse(server.url(database: empty))) } throws: {
            "\($0)".contains("is not an interrogate team store") && "\($0)".contains("store init")
        }
    }

    @Test("a wrong password, a wrong port and a missing database each get a clear message that never shows the password")
    func badAddresses() async throws {
        let (server, db, _) = try await Self.freshStore()
        await #expect { try await TeamStore.connect(try StoreAddress.parse(server.url(user: server.admin, password: "wrong-pass", database: db))) } throws: {
            "\($0)".contains("the server refused the login") && !"\($0)".contains("wrong-pass")
        }
        // Port 1 on loopback: privileged, and nothing listens there.
        let closedPort = 1
        await #expect { try await TeamStore.connect(try StoreAddress.parse("postgresql://someone:pw-xyz@127.0.0.1:\(closedPort)/x?sslmode=disable")) } throws: {
            "\($0)".contains("cannot connect to the team store postgresql://someone@127.0.0.1:\(closedPort)/x") && !"\($0)".contains("pw-xyz")
        }
        await #expect { try await TeamStore.connect(try StoreAddress.parse(server.url(database: "no_such_db"))) } throws: {
            "\($0)".contains("no_such_db") && "\($0)".contains("does not exist")
        }
        #expect(throws: StoreAddress.Invalid.self) { try StoreAddress.parse("postgresql://u:p@h:70000/db") }
        #expect(throws: StoreAddress.Invalid.self) { try StoreAddress.parse("postgresql://u@h/db?sslmode=requre") }
        #expect(throws: StoreAddress.Invalid.self) { try StoreAddress.parse("postgresql://h/db") }
        #expect { try StoreAddress.parse("postgresql://u:hunter2@h:99999/db") } throws: {
            "\($0)".contains("port 99999 is not between 1 and 65535") && !"\($0)".contains("hunter2")
        }
        #expect { try StoreAddress.parse("postgres:u:hunter2@h/db") } throws: { !"\($0)".contains("hunter2") }
    }

    @Test("push then pull round-trips a study byte for byte into an empty folder, and running either twice changes nothing")
    func pushPullRoundTrip() async throws {
        let (_, _, admin) = try await Self.freshStore()
        let root = try TestSupport.temporaryDirectory("store-roundtrip")
        let collection = try Self.studyFolder(root)
        // A fragment a crash cut inside a UTF-8 character, ended later by a newline: bytes that
        // are not text are kept and copied as they are.
        let first = collection.folder + "/transcripts/20261130-000001-vault-0001/session.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: first))
        handle.seekToEndOfFile()
        handle.write(Data([0x7B, 0x22, 0x74, 0x22, 0x3A, 0x22, 0x63, 0x61, 0x66, 0xC3, 0x0A]))
        try handle.close()
        let store = try await TeamStore.connect(admin)
        let pushed = try await store.push(collection)
        #expect(pushed.conflicts.isEmpty && pushed.leftOut.isEmpty)
        // study.yaml, plan.jsonl, 2 sessions, 4 reviews (bob/alice and carol on each), 1 adjudication.
        #expect(pushed.copied.count == 9)
        let again = try await store.push(collection)
        #expect(again.copied.isEmpty && again.linesCopied == 0 && again.unchanged == 9)

        let copy = StoreCollection.study(name: "demo", folder: root.appendingPathComponent("copy/studies/demo").path)
        let pulled = try await store.pull(copy)
        #expect(pulled.conflicts.isEmpty && pulled.leftOut.isEmpty && pulled.copied.count == 9)
        #expect(Self.contents(copy.folder) == Self.contents(collection.folder))
        #expect(Self.contents(copy.folder).count == 9)
        let pulledAgain = try await store.pull(copy)
        #expect(pulledAgain.copied.isEmpty && pulledAgain.unchanged == 9)

        // The pulled study reads as the original does.
        let original = try TranscriptReader.read(path: collection.folder + "/transcripts/20261130-000001-vault-0001/session.jsonl")
        let roundTripped = try TranscriptReader.read(path: copy.folder + "/transcripts/20261130-000001-vault-0001/session.jsonl")
        #expect(original.events == roundTripped.events)
        #expect(roundTripped.problems.map(\.line) == original.problems.map(\.line) && original.problems.count == 1)
        await store.close()
    }

    @Test("a store's copy remembers its last pull: the next reads only what changed, and a line added in the store, a copy file removed or cut, or a copy of another store is read again")
    func rememberedPull() async throws {
        let (server, _, admin) = try await Self.freshStore()
        let root = try TestSupport.temporaryDirectory("store-remembered")
        let collection = try Self.studyFolder(root)
        let store = try await TeamStore.connect(admin)
        _ = try await store.push(collection)
        let copy = StoreCollection.study(name: "demo", folder: root.appendingPathComponent("copy/studies/demo").path)
        let first = try await store.pull(copy, remember: true)
        #expect(first.copied.count == 9 && first.conflicts.isEmpty)
        let again = try await store.pull(copy, remember: true)
        #expect(again.copied.isEmpty && again.unchanged == 9 && again.conflicts.isEmpty)

        // A teammate's new line in the store is pulled.
        let review = StoreFile(path: "transcripts/20261130-000001-vault-0001/reviews/carol.jsonl", kind: .review,
                               sessionId: "20261130-000001-vault-0001", rater: "carol")
        let writer = try await StoreWriter.open(review, in: collection, store: store)
        try await writer.append(Data(#"{"v":1,"seq":9,"ts":"2026-12-01T00:00:00Z","type":"resumed","annotator":"carol"}"#.utf8))
        await writer.release()
        let newLine = try await store.pull(copy, remember: true)
        #expect(newLine.copied.map(\.path) == [copy.localPath(review)] && newLine.linesCopied == 1 && newLine.unchanged == 8)

        // A copy file removed, and one cut short: each is read again and put right.
        let session = copy.folder + "/transcripts/20261130-000002-vault-0002/session.jsonl"
        let whole = try Data(contentsOf: URL(fileURLWithPath: session))
        try FileManager.default.removeItem(atPath: copy.localPath(review))
        let lines = whole.split(separator: 0x0A)
        try (lines.dropLast().map { Data($0) }.reduce(Data()) { $0 + $1 + Data([0x0A]) }).write(to: URL(fileURLWithPath: session))
        let repaired = try await store.pull(copy, remember: true)
        #expect(repaired.copied.count == 2 && repaired.conflicts.isEmpty, "\(repaired.copied) \(repaired.conflicts)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: session)) == whole)

        // Another store under the same name, with the same files numbered the same and one
        // line changed but as long: the memory is not trusted, the difference is found.
        await store.close()
        let (_, _, other) = try await Self.freshStore(on: server)
        let otherRoot = try TestSupport.temporaryDirectory("store-remembered-other")
        try FileManager.default.createDirectory(at: otherRoot.appendingPathComponent("studies"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: collection.folder, toPath: otherRoot.appendingPathComponent("studies/demo").path)
        let otherCollection = StoreCollection.study(name: "demo", folder: otherRoot.appendingPathComponent("studies/demo").path)
        let changed = otherCollection.folder + "/transcripts/20261130-000002-vault-0002/session.jsonl"
        let text = try String(contentsOfFile: changed, encoding: .utf8).replacingOccurrences(of: "What is the code?", with: "What is the CODE?")
        try text.write(toFile: changed, atomically: true, encoding: .utf8)
        let otherStore = try await TeamStore.connect(other)
        _ = try await otherStore.push(otherCollection)
        // The new carol line, so the counts match the copy's too.
        let w = try await StoreWriter.open(review, in: otherCollection, store: otherStore)
        try await w.append(Data(#"{"v":1,"seq":9,"ts":"2026-12-01T00:00:00Z","type":"resumed","annotator":"carol"}"#.utf8))
        await w.release()
        let mixed = try await otherStore.pull(copy, remember: true)
        #expect(mixed.conflicts.map(\.path) == [session], "\(mixed.conflicts)")
        await otherStore.close()
    }

    @Test("a store's copy pushes what was written in it since its last pull and finds the rest the same without reading it; a line changed in place, even to the same length, is still a conflict")
    func rememberedPush() async throws {
        let (_, _, admin) = try await Self.freshStore()
        let root = try TestSupport.temporaryDirectory("store-remembered-push")
        let collection = try Self.studyFolder(root)
        let store = try await TeamStore.connect(admin)
        _ = try await store.push(collection)
        let copy = StoreCollection.study(name: "demo", folder: root.appendingPathComponent("copy/studies/demo").path)
        _ = try await store.pull(copy, remember: true)
        let nothing = try await store.push(copy, remember: true)
        #expect(nothing.copied.isEmpty && nothing.unchanged == 9 && nothing.conflicts.isEmpty)

        // A line saved in the copy (a review going on offline) is pushed.
        let review = copy.folder + "/transcripts/20261130-000001-vault-0001/reviews/carol.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: review))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"v":1,"seq":9,"ts":"2026-12-01T00:00:00Z","type":"resumed","annotator":"carol"}"#.utf8 + [0x0A]))
        try handle.close()
        let added = try await store.push(copy, remember: true)
        #expect(added.copied.map(\.path) == [review] && added.linesCopied == 1 && added.unchanged == 8, "\(added.copied)")

        // A line rewritten in place to the same length: not taken for the same file.
        let bob = copy.folder + "/transcripts/20261130-000001-vault-0001/reviews/bob.jsonl"
        _ = try await store.pull(copy, remember: true)
        let text = try String(contentsOfFile: bob, encoding: .utf8)
        #expect(text.contains("\"fabrication\""))
        try text.replacingOccurrences(of: "\"fabrication\"", with: "\"FABRICATION\"").write(toFile: bob, atomically: false, encoding: .utf8)
        let changed = try await store.push(copy, remember: true)
        #expect(changed.conflicts.map(\.path) == [bob], "\(changed.conflicts)")
        await store.close()
    }

    @Test("new lines on either side are copied after the others; lines that differ are a conflict and nothing of that file is written")
    func appendsAndConflicts() async throws {
        let (server, db, admin) = try await Self.freshStore()
        let root = try TestSupport.temporaryDirectory("store-conflicts")
        let collection = try Self.studyFolder(root)
        let store = try await TeamStore.connect(admin)
        _ = try await store.push(collection)
        let copy = StoreCollection.study(name: "demo", folder: root.appendingPathComponent("copy").path)
        _ = try await store.pull(copy)

        // The session goes on in the original folder: push sends the new lines, pull brings them.
        let session = "/transcripts/20261130-000001-vault-0001/session.jsonl"
        let file = try TranscriptFile.openForAppend(path: collection.folder + session).file
        try file.append(.resumed(.init(annotator: "alice")))
        let pushed = try await store.push(collection)
        #expect(pushed.linesCopied == 1 && pushed.copied.map(\.path) == [collection.folder + session])
        let pulled = try await store.pull(copy)
        #expect(pulled.linesCopied == 1)
        #expect(FileManager.default.contents(atPath: copy.folder + session) == FileManager.default.contents(atPath: collection.folder + session))

        // Someone edits a saved line in their copy: that file is in conflict, on both commands.
        let review = "/transcripts/20261130-000001-vault-0001/reviews/carol.jsonl"
        let before = try #require(FileManager.default.contents(atPath: copy.folder + review))
        var text = String(decoding: before, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"candid\"", with: "\"refusal\"")
        try text.write(toFile: copy.folder + review, atomically: true, encoding: .utf8)
        let stored = try server.psql("SELECT count(*) FROM interrogate_lines", database: db).output
        let conflicted = try await store.push(copy)
        #expect(conflicted.conflicts.map(\.path) == [copy.folder + review])
        #expect(conflicted.conflicts.first?.reason.contains("differs from the database's copy") == true)
        #expect(try server.psql("SELECT count(*) FROM interrogate_lines", database: db).output == stored)
        let pullConflict = try await store.pull(copy)
        #expect(pullConflict.conflicts.map(\.path) == [copy.folder + review])
        #expect(FileManager.default.contents(atPath: copy.folder + review) == Data(text.utf8))

        // A torn last line is never pushed; the lines before it are.
        try TestSupport.append("{\"v\":1,\"seq\":99", to: collection.folder + session, newline: false)
        let torn = try await store.push(collection)
        #expect(torn.notes.contains { $0.path == collection.folder + session && $0.reason.contains("torn") })
        #expect(torn.linesCopied == 0 && torn.leftOut.isEmpty && torn.unchanged == 9)
        await store.close()
    }

    @Test("nothing in the store can be updated or deleted, by anyone: the append-only rule is the server's")
    func appendOnly() async throws {
        let (server, db, admin) = try await Self.freshStore()
        let root = try TestSupport.temporaryDirectory("store-append-only")
        let store = try await TeamStore.connect(admin)
        _ = try await store.push(try Self.studyFolder(root))
        await store.close()
        for sql in ["UPDATE interrogate_lines SET body = 'x'", "DELETE FROM interrogate_lines", "TRUNCATE interrogate_lines CASCADE",
                    "DELETE FROM interrogate_files", "UPDATE interrogate_files SET path = 'x'", "TRUNCATE interrogate_assignments"] {
            let r = try server.psql(sql, database: db)
            #expect(r.status != 0 && r.output.contains("append-only"), "\(sql): \(r.output)")
        }
        // No UPDATE or DELETE is granted on the event tables to any role.
        let grants = try server.psql("""
            SELECT count(*) FROM information_schema.role_table_grants
            WHERE table_name IN ('interrogate_files', 'interrogate_lines') AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
              AND grantee <> (SELECT tableowner FROM pg_tables WHERE tablename = 'interrogate_lines')
            """, database: db)
        #expect(grants.output == "0")
    }

    @Test("a reviewer connected with plain SQL reads the messages of every session and their own labels, never another rater's labels, notes, adjudications or the model")
    func reviewerBlindness() async throws {
        // People are roles of the whole server: this test's own server, logging every statement.
        let own = try PostgresServer.start(settings: ["log_statement=all"])
        defer { own.stop() }
        let (server, db, admin) = try await Self.freshStore(on: own)
        let root = try TestSupport.temporaryDirectory("store-blind")
        let organiser = try await TeamStore.connect(admin)
        for (name, role) in [("alice", StoreRole.reviewer), ("bob", .reviewer), ("carol", .reviewer), ("dana", .adjudicator)] {
            #expect(try await organiser.addRater(name, role: role, password: "pw-\(name)"))
        }
        _ = try await organiser.push(try Self.studyFolder(root))

        func asCarol(_ sql: String) throws -> (status: Int32, output: String) { try server.psql(sql, user: "carol", password: "pw-carol", database: db) }
        // Her own review lines, and nothing of anyone else's labels.
        #expect(try asCarol("SELECT count(*) FROM interrogate_lines WHERE type = 'annotation'").output == "2")
        #expect(try asCarol("SELECT DISTINCT f.rater FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file").output == "carol")
        #expect(try asCarol("SELECT count(*) FROM interrogate_files WHERE kind IN ('review', 'adjudication') AND rater <> 'carol'").output == "0")
        #expect(try asCarol("SELECT count(*) FROM interrogate_files WHERE kind IN ('study', 'plan', 'logprobs', 'probes')").output == "0")
        // Every session's messages, blind: the model's name appears nowhere she can read.
        #expect(try asCarol("SELECT count(*) FROM interrogate_blind_sessions WHERE type = 'message'").output == "8")
        #expect(try asCarol("SELECT count(*) FROM interrogate_blind_sessions WHERE type = 'annotation'").output == "0")
        let readable = try asCarol("SELECT string_agg(blind, E'\\n') FROM interrogate_blind_sessions").output
        // How long each reply took is not in it: only a header has a time, the session's start.
        #expect(try asCarol("SELECT count(*) FROM interrogate_blind_sessions WHERE blind::json ->> 'ts' IS NOT NULL").output
                == asCarol("SELECT count(*) FROM interrogate_blind_sessions WHERE type = 'header'").output)
        #expect(readable.contains("I cannot say") && readable.contains("vault"))
        // Not the model, the condition, the alias, an error's text, reasoning or what the server said it was.
        for hidden in ["secret-model-name", "Suspect A", "scripted", "secret-host", "\"condition\"", "\"system_prompt\"", "\"labels\"", "\"leak\""] {
            #expect(!readable.contains(hidden), "\(hidden)")
        }
        #expect(readable.contains("\"status\" : \"error\"") || readable.contains("\"status\":\"error\""))
        // The reply's escape sequence is kept as written; its NUL is shown as U+FFFD.
        #expect(readable.contains("\\u001b[31m\\ufffdcaf"))
        let everything = try asCarol("SELECT string_agg(encode(body, 'escape'), E'\\n') FROM interrogate_lines").output
        #expect(!everything.contains("secret-model-name") && everything.contains("\"rater\":\"carol\""))
        // She cannot write for someone else, hold another's place under her name, or change her own.
        #expect(try asCarol("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/demo', 'transcripts/x/reviews/bob.jsonl', 'review', 'x', 'bob')").output.contains("row-level security"))
        for (path, session) in [("transcripts/x/reviews/bob.jsonl", "x"), ("transcripts/y/reviews/carol.jsonl", "x"),
                                ("transcripts/z/session.jsonl", "20261130-000001-vault-0001")] {
            let kind = path.hasSuffix("session.jsonl") ? "session" : "review"
            let r = try asCarol("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/demo', '\(path)', '\(kind)', '\(session)', 'carol')")
            #expect(r.status != 0 && r.output.contains("check constraint"), "\(path): \(r.output)")
        }
        // A session she opens is hers: its header must name her and the session.
        #expect(try asCarol("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/demo', 'transcripts/s9/session.jsonl', 'session', 's9', 'carol')").status == 0)
        let claim = try asCarol("""
            INSERT INTO interrogate_lines (file, line_no, body) SELECT id, 1, convert_to('{"v":1,"seq":1,"type":"header","session_id":"s9","annotator":"alice"}', 'UTF8')
            FROM interrogate_files WHERE path = 'transcripts/s9/session.jsonl'
            """)
        #expect(claim.status != 0 && claim.output.contains("must be its header, naming that session and annotator"), "\(claim.output)")
        func line(_ n: Int, _ body: String) throws -> (status: Int32, output: String) {
            try asCarol("INSERT INTO interrogate_lines (file, line_no, body) SELECT id, \(n), convert_to('\(body)', 'UTF8') FROM interrogate_files WHERE path = 'transcripts/s9/session.jsonl'")
        }
        for body in ["not json", #"{"type":"header","session_id":"s9","annotator":"\ud800"}"#] {
            let r = try line(1, body)
            #expect(r.status != 0 && r.output.contains("must be its header, naming that session and annotator"), "\(body): \(r.output)")
        }
        #expect(try line(2, #"{"type":"message"}"#).output.contains("line 2 of carol comes only after line 1"))
        #expect(try line(1, #"{"v":1,"seq":1,"type":"header","session_id":"s9","annotator":"carol"}"#).status == 0)
        #expect(try line(2, #"{"v":1,"seq":2,"type":"header","session_id":"s9","annotator":"carol"}"#).output.contains("a session has one header, its first line"))
        // The line reader runs with the inserter's rights, never the owner's (a temporary view or
        // function of hers must not run as the owner).
        #expect(try server.psql("SELECT count(*) FROM pg_proc WHERE proname LIKE 'interrogate_%' AND prosecdef", database: db).output == "0")
        // What she sends as a line's type or blind text is not what the server keeps.
        let mine = "SELECT id FROM interrogate_files WHERE rater = 'carol' AND kind = 'review' ORDER BY id LIMIT 1"
        #expect(try asCarol("INSERT INTO interrogate_lines (file, line_no, body, type, blind) SELECT id, 3, 'x', 'message', 'forged' FROM (\(mine)) f").status == 0)
        #expect(try asCarol("SELECT count(*) FROM interrogate_lines WHERE blind = 'forged' OR (line_no = 3 AND type IS NOT NULL)").output == "0")
        // Lines follow each other: no line 5 before line 4.
        #expect(try asCarol("INSERT INTO interrogate_lines (file, line_no, body) SELECT id, 5, 'x' FROM (\(mine)) f").output.contains("comes only after line 4"))
        #expect(try asCarol("UPDATE interrogate_lines SET body = 'x'").status != 0)
        #expect(try asCarol("SELECT count(*) FROM interrogate_assignments").status != 0)

        // An organiser who does not own the tables reads everything, through the organiser policies.
        #expect(try await organiser.addRater("olga", role: .organiser, password: "pw-olga"))
        let total = try server.psql("SELECT count(*) FROM interrogate_lines", database: db).output
        #expect(try server.psql("SELECT count(*) FROM interrogate_lines", user: "olga", password: "pw-olga", database: db).output == total)
        #expect(try server.psql("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'olga'", database: db).output == "f")

        // The adjudicator reads nothing whole until a session is assigned to her, then all of it.
        func asDana(_ sql: String) throws -> String { try server.psql(sql, user: "dana", password: "pw-dana", database: db).output }
        let beforeAssign = try asDana("SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.rater <> 'dana'")
        #expect(beforeAssign == "0")
        try await organiser.assign(session: "20261130-000001-vault-0001", in: .study(name: "demo", folder: ""), adjudicator: "dana")
        #expect(try asDana("SELECT count(DISTINCT f.rater) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.session_id = '20261130-000001-vault-0001'") == "4")
        #expect(try asDana("SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.session_id = '20261130-000002-vault-0002' AND f.rater <> 'dana'") == "0")
        // Passwords reached the server only as SCRAM verifiers: no statement it logged holds one.
        #expect(!server.log.isEmpty && !server.log.contains("pw-carol") && !server.log.contains("pw-olga"))
        #expect(try server.psql("SELECT count(*) FROM pg_authid WHERE rolname IN ('alice', 'carol', 'olga') AND rolpassword LIKE 'SCRAM-SHA-256$4096:%'", database: db).output == "3")
        // Names that are not a person's are refused.
        for name in ["interrogate_reviewer", "pg_monitor", String(repeating: "a", count: 64)] {
            await #expect(throws: StoreError.self) { try await organiser.addRater(name, role: .organiser, password: "x") }
        }
        await #expect { try await organiser.addRater("erin", role: .reviewer, password: "pässword") } throws: { "\($0)".contains("printable ASCII") }
        await organiser.close()
    }

    @Test("a reviewer pushes and pulls only their own files; other people's are listed as left out, with the reason")
    func reviewerPushPull() async throws {
        // People are roles of the whole server: this test's own server.
        let own = try PostgresServer.start()
        defer { own.stop() }
        let (server, _, admin) = try await Self.freshStore(on: own)
        let organiser = try await TeamStore.connect(admin)
        #expect(try await organiser.addRater("carol", role: .reviewer, password: "pw-carol"))
        await organiser.close()
        let root = try TestSupport.temporaryDirectory("store-reviewer")
        let collection = try Self.studyFolder(root)
        var carolAddress = admin
        carolAddress.user = "carol"
        carolAddress.password = "pw-carol"
        let carol = try await TeamStore.connect(carolAddress)
        let pushed = try await carol.push(collection)
        #expect(pushed.copied.map { ($0.path as NSString).lastPathComponent } == ["carol.jsonl", "carol.jsonl"])
        #expect(pushed.leftOut.count == 7 && pushed.leftOut.allSatisfy { $0.reason.contains("only they or an organiser push it") })
        #expect(pushed.conflicts.isEmpty)

        let copy = StoreCollection.study(name: "demo", folder: root.appendingPathComponent("carol-copy").path)
        let pulled = try await carol.pull(copy)
        #expect(Set(Self.contents(copy.folder).keys) == ["transcripts/20261130-000001-vault-0001/reviews/carol.jsonl",
                                                         "transcripts/20261130-000002-vault-0002/reviews/carol.jsonl"])
        #expect(pulled.conflicts.isEmpty)
        _ = server
        await carol.close()
    }

    @Test("the address a message gives back to --store keeps the socket folder and sslmode and never the password")
    func addressGivenBack() throws {
        for text in ["postgresql://ana:s3cret@db.lab.org:6543/interrogate?sslmode=require",
                     "postgresql://ana:s3cret@/interrogate?host=/run/postgresql", "postgresql://ana@[::1]/x?sslmode=disable"] {
            let address = try StoreAddress.parse(text, environment: [:])
            let back = address.urlWithoutPassword
            #expect(!back.contains("s3cret"), "\(back)")
            var again = try StoreAddress.parse(back, environment: [:])
            again.password = address.password
            #expect(again == address, "\(text) → \(back)")
        }
    }

    @Test("a path from the database that points outside the folder is refused, never written")
    func hostilePathsRefused() {
        let c = StoreCollection.study(name: "demo", folder: "/tmp/x")
        #expect(c.classify(path: "transcripts/../../etc/session.jsonl", rater: "a") == nil)
        #expect(c.classify(path: "transcripts/s1/reviews/../../x.jsonl", rater: nil) == nil)
        #expect(c.classify(path: "/etc/passwd", rater: nil) == nil)
        #expect(c.classify(path: "transcripts/s1/reviews/bob.jsonl", rater: "carol") == nil)
        #expect(c.classify(path: "transcripts/s1/reviews/bob.jsonl", rater: "bob")?.kind == .review)
        #expect(c.classify(path: "transcripts/s1/notes.txt", rater: "bob") == nil)
        #expect(c.classify(path: "transcripts/.hidden/session.jsonl", rater: "bob") == nil)
        #expect(c.classify(path: "study.yaml", rater: nil)?.kind == .study)
    }
}
