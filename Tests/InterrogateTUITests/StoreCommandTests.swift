import Foundation
import Testing
import TestSupport

/// `interrogate store …` as a person runs it, against a real PostgreSQL server.
@Suite("interrogate store", .serialized)
struct StoreCommandTests {
    static let binary = TestSupport.product("interrogate")

    func interrogate(_ args: [String], store: String? = nil, stdin: String? = nil, in dir: URL) throws -> TestSupport.Result {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && $0.key != "INTERROGATE_STORE" }
        if let store { env["INTERROGATE_STORE"] = store }
        guard let stdin else { return try TestSupport.run(Self.binary, args, environment: env, currentDirectory: dir) }
        // The password goes in on standard input, never on the command line.
        let input = dir.appendingPathComponent(".stdin")
        try stdin.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        return try TestSupport.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" \"$@\" < .stdin", Self.binary.path] + args,
                                   environment: env, currentDirectory: dir)
    }

    @Test("an organiser sets up a store and pushes a study; a reviewer pulls only her own files; push and pull twice change nothing; a conflict exits 1")
    func organiserAndReviewer() throws {
        // People are roles of the whole server: this test's own server.
        let server = try PostgresServer.start()
        defer { server.stop() }
        let db = try server.createDatabase()
        let organiser = server.url(database: db)
        let dir = try TestSupport.temporaryDirectory("store-cli")
        try StudyFixture.teamStudy(in: dir)

        let initialised = try interrogate(["store", "init"], store: organiser, in: dir)
        #expect(initialised.status == 0 && initialised.stdout.contains("applied migration(s) 0001, 0002; schema version 2"), "\(initialised.stderr)")
        #expect(!initialised.stdout.contains(server.adminPassword))
        let again = try interrogate(["store", "init"], store: organiser, in: dir)
        #expect(again.stdout.contains("schema version 2, already up to date"))

        #expect(try interrogate(["store", "add-rater", server.admin, "--role", "organiser"], store: organiser, in: dir).status == 0)
        let added = try interrogate(["store", "add-rater", "carol", "--role", "reviewer"], store: organiser, stdin: "carol's pass\n", in: dir)
        #expect(added.status == 0 && added.stdout.contains("carol: ") && added.stdout.contains("member of interrogate_reviewer"), "\(added.stderr)")

        let pushed = try interrogate(["store", "push", "--study", "demo"], store: organiser, in: dir)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("in 9 file(s) into postgresql://\(server.admin)@127.0.0.1:\(server.port)/\(db); 0 file(s) already the same"))
        let pushedAgain = try interrogate(["store", "push", "--study", "demo"], store: organiser, in: dir)
        #expect(pushedAgain.status == 0 && pushedAgain.stdout.contains("pushed 0 line(s) in 0 file(s)") && pushedAgain.stdout.contains("9 file(s) already the same"))

        // Carol, on her own laptop, gets her own reviews and is told what she may not copy.
        let carol = server.url(user: "carol", password: "carol's pass", database: db)
        let laptop = try TestSupport.temporaryDirectory("store-cli-carol")
        let pulled = try interrogate(["store", "pull", "--study", "demo"], store: carol, in: laptop)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.contains("pulled 4 line(s) in 2 file(s)"), "\(pulled.stdout)")
        #expect(pulled.stdout.contains("left out: 2 other people's session(s): you may read only their messages (blind review)"))
        let reviews = try FileManager.default.subpathsOfDirectory(atPath: laptop.appendingPathComponent("studies/demo").path)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
        #expect(reviews == ["transcripts/20261130-000001-vault-0001/reviews/carol.jsonl", "transcripts/20261130-000002-vault-0002/reviews/carol.jsonl"])
        let pulledAgain = try interrogate(["store", "pull", "--study", "demo"], store: carol, in: laptop)
        #expect(pulledAgain.status == 0 && pulledAgain.stdout.contains("pulled 0 line(s) in 0 file(s)") && pulledAgain.stdout.contains("2 file(s) already the same"))

        // Her copy of a saved line is changed: her push is refused for that file, exit 1.
        let mine = laptop.appendingPathComponent("studies/demo/transcripts/20261130-000001-vault-0001/reviews/carol.jsonl")
        let text = try String(contentsOf: mine, encoding: .utf8).replacingOccurrences(of: "\"candid\"", with: "\"refusal\"")
        try text.write(to: mine, atomically: true, encoding: .utf8)
        let conflict = try interrogate(["store", "push", "--study", "demo"], store: carol, in: laptop)
        #expect(conflict.status == 1)
        #expect(conflict.stdout.contains("carol.jsonl: CONFLICT: line 2 differs from the database's copy; nothing of this file was pushed"))
        #expect(conflict.stdout.contains("1 in conflict, not copied"))
        #expect(!conflict.stdout.contains("carol's pass") && !conflict.stderr.contains("carol's pass"))
    }

    @Test("no store, a malformed address and a refused password each exit with a clear message that never shows the password")
    func badAddresses() throws {
        let server = try PostgresServer.get()
        let dir = try TestSupport.temporaryDirectory("store-cli-bad")
        let none = try interrogate(["store", "push"], in: dir)
        #expect(none.status == 64 && none.stderr.contains("no team store: give --store postgresql://USER@HOST/DATABASE or set $INTERROGATE_STORE"))
        let malformed = try interrogate(["store", "pull", "--store", "postgresql://me:s3cret-word@127.0.0.1:99999/db"], in: dir)
        #expect(malformed.status == 64 && malformed.stderr.contains("port 99999 is not between 1 and 65535") && !malformed.stderr.contains("s3cret-word"))
        let refused = try interrogate(["store", "pull"], store: server.url(user: server.admin, password: "s3cret-word", database: "postgres"), in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("the server refused the login") && !refused.stderr.contains("s3cret-word"), "\(refused.stderr)")
    }
}
