import Crypto
import Foundation
import PostgresNIO

/// Sends a file that a command is writing in a store's copy (a live session) into the store as
/// it grows, holding it there so that nobody else writes it meanwhile. The copy is written
/// first, fsync'd, as always: the store gets each complete line after the disk has it. When the
/// store goes away the lines wait in the copy, and are sent once it answers again (or by the
/// next push).
public actor StoreFollower {
    public let address: StoreAddress
    public let collection: StoreCollection
    public let file: StoreFile
    let localPath: String
    private var store: TeamStore?
    private var writer: StoreWriter?
    /// Lines of the local file the store is known to hold.
    private var sent = 0
    private var lastSize: Int64 = -1
    private var nextAttempt = ContinuousClock.now
    /// How long the store may leave a line unanswered before it counts as away.
    let patience: Duration
    /// Why the last lines have not reached the store, while they have not.
    public private(set) var problem: String?

    /// Lines of the local file the store holds.
    public var linesInStore: Int { sent }

    private init(address: StoreAddress, collection: StoreCollection, file: StoreFile, patience: Duration) {
        self.patience = patience
        self.address = address
        self.collection = collection
        self.file = file
        localPath = collection.localPath(file)
    }

    /// Follows `file` without waiting for the store: the first `sync` connects, and a store
    /// that does not answer is tried again (a new session, whose screen must not wait).
    public static func follow(_ file: StoreFile, in collection: StoreCollection, address: StoreAddress,
                              patience: Duration = .seconds(10)) -> StoreFollower {
        StoreFollower(address: address, collection: collection, file: file, patience: patience)
    }

    /// Holds `file` in the store and sends what it lacks. Refused when another connection
    /// writes it, or when the store's copy is not the start of this one.
    public static func hold(_ file: StoreFile, in collection: StoreCollection, address: StoreAddress,
                            patience: Duration = .seconds(10)) async throws(StoreError) -> StoreFollower {
        let follower = StoreFollower(address: address, collection: collection, file: file, patience: patience)
        try await follower.connect()
        await follower.sync()
        return follower
    }

    /// The session file at `path` in `collection`'s folder (its header says whose it is).
    public static func sessionFile(at path: String, in collection: StoreCollection) -> StoreFile? {
        let folder = (path as NSString).deletingLastPathComponent
        let id = (folder as NSString).lastPathComponent
        guard let annotator = StoreCollection.annotator(ofSession: path) else { return nil }
        return collection.classify(path: collection.sessionsPrefix + id + "/" + TranscriptStore.sessionFileName, rater: annotator)
    }

    /// This follower's last server process: given up on, it may still hold the file until the
    /// server notices the connection has gone, so the next connection ends it.
    private var lastBackend: (pid: Int, started: String)?

    private func connect() async throws(StoreError) {
        let store = try await TeamStore.connect(address, patience: patience)
        do throws(StoreError) {
            // The server notices within half a minute when this machine vanishes (its keep-alive
            // probes), rather than after its default two hours, and lets the file go.
            for setting in ["tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3"] {
                try? await store.run(PostgresQuery(unsafeSQL: "SET " + setting))
            }
            if let last = lastBackend {
                try? await store.run("""
                    SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
                    WHERE pid = \(last.pid) AND backend_start::text = \(last.started) AND usename = current_user
                    """)
            }
            let me = try? await store.rows("SELECT pg_catalog.pg_backend_pid(), backend_start::text FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()",
                                           as: (Int, String).self).first
            let writer = try await StoreWriter.open(file, in: collection, store: store)
            // This connection holds the file now: it is the one to end if it is given up.
            if let me { lastBackend = (me.0, me.1) }
            let held = writer.nextLineNumber - 1
            let local = try LocalLines.read(path: localPath)?.lines ?? []
            guard held <= local.count else {
                await writer.release()
                throw StoreError("\(collection.name)/\(file.path): the store has \(held - local.count) line(s) more than \(localPath); pull first")
            }
            if held > 0 {
                let stored = try await store.rows("""
                    SELECT pg_catalog.sha256(pg_catalog.string_agg(body, '\\x0a'::bytea ORDER BY line_no)) FROM interrogate_lines WHERE file = \(writer.fileID)
                    """, as: Data.self).first
                guard stored.map(Array.init) == TeamStore.digest(Array(local.prefix(held))) else {
                    await writer.release()
                    throw StoreError("\(collection.name)/\(file.path): the store's copy differs from \(localPath); nothing is sent (store push lists the conflict)")
                }
            }
            self.store = store
            self.writer = writer
            sent = held
            lastSize = -1
            problem = nil
        } catch {
            await store.close()
            throw error
        }
    }

    /// Sends the complete lines the store lacks. Never throws: what is not sent waits, and
    /// `problem` says why.
    public func sync() async {
        if writer == nil {
            guard ContinuousClock.now >= nextAttempt else { return }
            nextAttempt = ContinuousClock.now + .seconds(2)
            do { try await connect() } catch {
                problem = error.description
                return
            }
        }
        guard let writer else { return }
        let size = (try? FileManager.default.attributesOfItem(atPath: localPath)[.size] as? NSNumber)?.int64Value ?? -1
        if size == lastSize && problem == nil { return }
        let lines: [Data]
        do { lines = try LocalLines.read(path: localPath)?.lines ?? [] } catch {
            problem = error.description
            return
        }
        do {
            while sent < lines.count {
                try await writer.append(lines[sent])
                sent += 1
            }
            lastSize = size
            problem = nil
        } catch {
            problem = "\(sent < lines.count ? lines.count - sent : 0) line(s) wait in \(localPath): \(error.description)"
            // Connected again later, the store says how many lines it has: a line whose answer
            // was lost is neither sent twice nor skipped.
            await drop()
        }
    }

    /// A last send, then lets the file go.
    public func finish() async {
        await sync()
        await drop()
    }

    private func drop() async {
        if let writer { await writer.release() }
        await store?.close()
        writer = nil
        store = nil
    }
}
