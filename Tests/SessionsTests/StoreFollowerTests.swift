import Foundation
import Sessions
import Testing
import TestSupport

/// A live session followed into the team store: what reaches it, and a server host that stops
/// answering without closing the connection.
@Suite("A live session followed into the team store", .serialized)
struct StoreFollowerTests {
    static func storeLines(_ server: PostgresServer, _ db: String) throws -> Int {
        Int(try server.psql("SELECT count(*) FROM interrogate_lines", database: db).output) ?? -1
    }

    static func localLines(_ path: String) throws -> Int {
        try Data(contentsOf: URL(fileURLWithPath: path)).filter { $0 == 0x0A }.count
    }

    @Test("a server that stops answering (frozen, the connection left open) is given up after the follower's patience: the session's lines wait on disk, quitting does not hang, and they are sent once it answers again")
    func frozenServer() async throws {
        // Frozen and thawed: this test's own server.
        let server = try PostgresServer.start()
        defer { server.stop() }
        let (_, db, admin) = try await TeamStoreTests.freshStore(on: server)
        let root = try TestSupport.temporaryDirectory("store-follower")
        let collection = StoreCollection.transcripts(root: root.path)
        let folder = try StudyFixture.session(in: root, id: "20261201-000001-vault-0001", annotator: "alice",
                                              replies: [.init("Code?", "No.", ["alice": ([.refusal], false)])])
        let path = folder.appendingPathComponent("session.jsonl").path
        let file = try #require(StoreFollower.sessionFile(at: path, in: collection))
        // Under a loaded machine a server (fresh, or just thawed) can take longer than this test's
        // short patience to answer, and a connection given up on may hold the file until the
        // server notices: one follower tries again, as a live session's does (its next
        // connection ends its last one), until it holds the file.
        func hold() async throws -> StoreFollower {
            let follower = StoreFollower.follow(file, in: collection, address: admin, patience: .seconds(2))
            await follower.sync()
            for _ in 0..<30 {
                let (problem, held) = (await follower.problem, await follower.linesInStore)
                if problem == nil && held > 0 { break }
                try await Task.sleep(for: .milliseconds(2100))
                await follower.sync()
            }
            let ready = await follower.problem
            try #require(ready == nil, "\(ready ?? "")")
            return follower
        }
        let follower = try await hold()
        #expect(try Self.storeLines(server, db) == Self.localLines(path))

        let postmaster = try #require(server.postmasterPID)
        let frozen = [postmaster] + PostgresServer.children(of: postmaster)
        for p in frozen { kill(p, SIGSTOP) }
        // Whatever happens below, the server is thawed.
        let thaw = Task { try? await Task.sleep(for: .seconds(60)); for p in frozen { kill(p, SIGCONT) } }
        let saved = try TranscriptFile.openForAppend(path: path).file
        try saved.append(.message(.init(index: 2, role: .interrogator, text: "Once more?")))
        await follower.sync()
        let problem = await follower.problem
        #expect(problem?.contains("did not answer in 2 s") == true, "\(problem ?? "none")")
        // A second try while it is still frozen: the connection is not waited for either.
        try await Task.sleep(for: .milliseconds(2100))
        await follower.sync()
        let second = await follower.problem
        #expect(second?.contains("no answer in 2 s") == true, "\(second ?? "none")")
        await follower.finish()

        for p in frozen { kill(p, SIGCONT) }
        thaw.cancel()
        // The line sent as it froze may have been committed when it thawed: the next holder
        // starts after whatever the store has, so it is neither lost nor doubled.
        let again = try await hold()
        let after = await again.problem
        #expect(after == nil, "\(after ?? "")")
        #expect(try Self.storeLines(server, db) == Self.localLines(path))
        await again.finish()
    }
}
