import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// The one writer of one file in a team store, as a running session or review is the one
/// writer of its JSONL file: it holds the file (an advisory lock of its connection, which the
/// server releases when the connection ends, however it ends), so a second writer is refused
/// instead of interleaving lines; each line is committed on its own, so a line `append`
/// returned is on the server's disk (PostgreSQL's synchronous commit).
public final class StoreWriter: Sendable {
    public let store: TeamStore
    public let file: StoreFile
    public let collection: StoreCollection
    let fileID: Int
    private let next: Mutex<Int>

    /// The number the next line will have.
    public var nextLineNumber: Int { next.withLock { $0 } }

    private init(store: TeamStore, file: StoreFile, collection: StoreCollection, fileID: Int, next: Int) {
        self.store = store
        self.file = file
        self.collection = collection
        self.fileID = fileID
        self.next = Mutex(next)
    }

    /// The text a file's advisory lock is keyed by. Every query that takes the lock names
    /// `pg_catalog.hashtextextended(key, 0::int8)` in full, with a bigint argument, so that no
    /// same-named function in another schema can stand in for it.
    static func lockKey(_ collection: StoreCollection, _ path: String) -> String { collection.name + "\u{1}" + path }

    /// Holds `file` on this connection, creating it in the store when it is new. Refused when
    /// another connection holds it.
    public static func open(_ file: StoreFile, in collection: StoreCollection, store: TeamStore) async throws(StoreError) -> StoreWriter {
        let key = lockKey(collection, file.path)
        // A writer whose connection has just ended is let go by the server a moment later, as a
        // session lock on disk is waited for (SessionLock.patience) before a second writer is refused.
        let deadline = ContinuousClock.now + SessionLock.patience
        var held = false
        while true {
            held = try await store.rows("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended(\(key), 0::int8))", as: Bool.self).first ?? false
            if held || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard held else {
            throw StoreError("\(collection.name)/\(file.path) is being written by another interrogate (another connection to the store holds it); one writer at a time keeps its lines in order")
        }
        do throws(StoreError) {
            try await store.run("""
                INSERT INTO interrogate_files (collection, path, kind, session_id, rater)
                VALUES (\(collection.name), \(file.path), \(file.kind.rawValue), \(file.sessionId), \(file.rater))
                ON CONFLICT (collection, path) DO NOTHING
                """)
            guard let row = try await store.rows("SELECT id, kind, rater FROM interrogate_files WHERE collection = \(collection.name) AND path = \(file.path)",
                                                 as: (Int, String, String?).self).first else {
                throw StoreError("\(collection.name)/\(file.path): the store holds this file and you may not read it")
            }
            guard row.1 == file.kind.rawValue, row.2 == file.rater else {
                throw StoreError("\(collection.name)/\(file.path): the store has it as \(row.1) of \(row.2 ?? "the study")")
            }
            let last = try await store.rows("SELECT coalesce(max(line_no), 0) FROM interrogate_lines WHERE file = \(row.0)", as: Int.self).first ?? 0
            return StoreWriter(store: store, file: file, collection: collection, fileID: row.0, next: last + 1)
        } catch {
            try? await store.run("SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended(\(key), 0::int8))")
            throw error
        }
    }

    /// Adds one line after the others and returns its number once the server has committed it.
    @discardableResult
    public func append(_ line: Data) async throws(StoreError) -> Int {
        let n = nextLineNumber
        try await store.run("INSERT INTO interrogate_lines (file, line_no, body) VALUES (\(fileID), \(n), \(ByteBuffer(bytes: line)))")
        next.withLock { $0 = n + 1 }
        return n
    }

    /// Lets another writer have the file.
    public func release() async {
        try? await store.run("SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended(\(Self.lockKey(collection, file.path)), 0::int8))")
    }
}
