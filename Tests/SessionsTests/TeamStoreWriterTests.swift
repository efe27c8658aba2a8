import Annotate
import Foundation
import Sessions
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Many people writing into one team store at once, and the server dying under them.
@Suite("Team store writers", .serialized)
struct TeamStoreWriterTests {
    static let collection = StoreCollection.study(name: "demo", folder: "/nonexistent")

    static func line(client: Int, seq: Int) -> Data {
        Data("{\"v\":1,\"seq\":\(seq),\"ts\":\"2026-11-30T00:00:00.000Z\",\"type\":\"annotation\",\"client\":\(client),\"pad\":\"\(String(repeating: "x", count: seq % 7))\"}".utf8)
    }

    static func reviewFile(session: Int, client: Int) -> StoreFile {
        StoreFile(path: "transcripts/s\(session)/reviews/r\(client).jsonl", kind: .review, sessionId: "s\(session)", rater: "r\(client)")
    }

    @Test("20 clients appending 10,000 lines at once into 10 shared sessions: nothing lost, duplicated or out of order")
    func twentyClients() async throws {
        let (server, db, admin) = try await TeamStoreTests.freshStore()
        let clients = 20, sessions = 10, perFile = 50
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    let store = try await TeamStore.connect(admin)
                    var writers: [StoreWriter] = []
                    for s in 0..<sessions { writers.append(try await StoreWriter.open(Self.reviewFile(session: s, client: c), in: Self.collection, store: store)) }
                    // Each client visits the sessions in its own shuffled order, line after line.
                    var rng = SplitMix64(seed: UInt64(c + 1))
                    var left = Array(repeating: perFile, count: sessions)
                    while let s = left.indices.filter({ left[$0] > 0 }).randomElement(using: &rng) {
                        let n = perFile - left[s] + 1
                        let got = try await writers[s].append(Self.line(client: c, seq: n))
                        #expect(got == n)
                        left[s] -= 1
                    }
                    for w in writers { await w.release() }
                    await store.close()
                }
            }
            try await group.waitForAll()
        }
        func sql(_ q: String) throws -> String { try server.psql(q, database: db).output }
        #expect(try sql("SELECT count(*) FROM interrogate_lines") == "10000")
        #expect(try sql("SELECT count(*) FROM interrogate_files") == "200")
        #expect(try sql("SELECT count(*) FROM (SELECT body FROM interrogate_lines GROUP BY file, body HAVING count(*) > 1) d") == "0")
        // Each file's lines are 1…50, each holding the line its writer appended as that number,
        // and the server's own order agrees.
        #expect(try sql("SELECT count(*) FROM (SELECT file, max(line_no) m, count(*) c FROM interrogate_lines GROUP BY file) x WHERE m <> 50 OR c <> 50") == "0")
        #expect(try sql("SELECT count(*) FROM interrogate_lines WHERE (convert_from(body, 'UTF8')::jsonb ->> 'seq')::int <> line_no") == "0")
        #expect(try sql("""
            SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file
            WHERE (convert_from(l.body, 'UTF8')::jsonb ->> 'client') <> substring(f.rater from 2)
            """) == "0")
        #expect(try sql("""
            SELECT count(*) FROM (SELECT line_no, lag(line_no) OVER (PARTITION BY file ORDER BY id) AS before FROM interrogate_lines) x
            WHERE before IS NOT NULL AND line_no <> before + 1
            """) == "0")
    }

    @Test("a file being written is held by one connection: a second writer is refused with a clear message until the first lets go, and push leaves it alone")
    func oneWriterAtATime() async throws {
        let (_, _, admin) = try await TeamStoreTests.freshStore()
        let a = try await TeamStore.connect(admin)
        let b = try await TeamStore.connect(admin)
        let file = Self.reviewFile(session: 1, client: 1)
        let first = try await StoreWriter.open(file, in: Self.collection, store: a)
        try await first.append(Self.line(client: 1, seq: 1))
        await #expect { try await StoreWriter.open(file, in: Self.collection, store: b) } throws: {
            "\($0)".contains("studies/demo/transcripts/s1/reviews/r1.jsonl is being written by another interrogate")
        }
        // A push of a folder holding that file leaves it to its writer, and says so.
        let root = try TestSupport.temporaryDirectory("store-held")
        let local = root.appendingPathComponent("transcripts/s1/reviews/r1.jsonl")
        try FileManager.default.createDirectory(at: local.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (Self.line(client: 1, seq: 1) + Data("\n".utf8) + Self.line(client: 1, seq: 2) + Data("\n".utf8)).write(to: local)
        let pushed = try await b.push(.study(name: "demo", folder: root.path))
        #expect(pushed.behind.map(\.reason) == ["not pushed: it is being written by a running interrogate connected to the store; push again later"])
        #expect(pushed.conflicts.isEmpty && pushed.linesCopied == 0)
        await first.release()
        let second = try await StoreWriter.open(file, in: Self.collection, store: b)
        #expect(second.nextLineNumber == 2)
        // The connection's end lets go too, however it ends.
        await b.close()
        let third = try await StoreWriter.open(file, in: Self.collection, store: a)
        #expect(third.nextLineNumber == 2)
        await a.close()
    }

    @Test("the server killed with SIGKILL mid-append and restarted: every line it acknowledged is there, intact")
    func serverKilledMidAppend() async throws {
        let server = try PostgresServer.start()
        defer { server.stop() }
        let (_, db, admin) = try await TeamStoreTests.freshStore(on: server)
        let store = try await TeamStore.connect(admin)
        let writer = try await StoreWriter.open(Self.reviewFile(session: 1, client: 1), in: Self.collection, store: store)
        let postmaster = try #require(server.postmasterPID)
        var acknowledged: [Int] = []
        var failure: String?
        // Bounded: an append that went on succeeding long after the kill would be a finding, not a hang.
        for n in 1...2_000 {
            if n == 300 {
                // The whole server at once, as a crash or an OOM kill would: the postmaster is
                // stopped first so that it starts no process while its children are listed, then
                // every one of them and the postmaster are killed.
                kill(postmaster, SIGSTOP)
                let children = PostgresServer.children(of: postmaster)
                #expect(!children.isEmpty)
                for c in children { kill(c, SIGKILL) }
                kill(postmaster, SIGKILL)
            }
            do {
                acknowledged.append(try await writer.append(Self.line(client: 1, seq: n)))
            } catch {
                failure = error.description
                break
            }
        }
        #expect(acknowledged.count >= 299)
        #expect(failure != nil)
        #expect(failure?.contains("password") != true)
        await store.close()
        // The postmaster is gone once its watcher has reaped it (its pid file stays, as after a crash).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, let stat = try? String(contentsOfFile: "/proc/\(postmaster)/stat", encoding: .utf8), stat.contains("postgres") {
            usleep(50_000)
        }
        try server.launch()

        let count = Int(try server.psql("SELECT count(*) FROM interrogate_lines", database: db).output) ?? -1
        // Everything acknowledged, and at most the one line in flight when the server died.
        #expect(count == acknowledged.count || count == acknowledged.count + 1)
        #expect(try server.psql("SELECT count(*) FROM interrogate_lines WHERE line_no <= \(acknowledged.count) AND convert_from(body, 'UTF8')::jsonb ->> 'seq' = line_no::text", database: db).output == "\(acknowledged.count)")
        // The writer starts again after the last line the server has.
        let again = try await TeamStore.connect(admin)
        let resumed = try await StoreWriter.open(Self.reviewFile(session: 1, client: 1), in: Self.collection, store: again)
        #expect(resumed.nextLineNumber == count + 1)
        await again.close()
    }
}
