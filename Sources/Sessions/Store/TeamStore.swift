import Crypto
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// Something the team store refused or could not do, in words a person can act on.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// Someone else is writing it now: not a conflict, a matter of trying again later.
    public var isBusy = false
    public init(_ description: String, busy: Bool = false) {
        self.description = description
        self.isBusy = busy
    }
}

/// A connection to a team store (PostgreSQL) as one person: their own role, so that what they
/// may read is what the server's row-level security lets them read. One connection carries one
/// transaction at a time: use a store from one task at a time (open one per task).
public final class TeamStore: Sendable {
    public let address: StoreAddress
    let connection: PostgresConnection
    let logger: Logger

    /// The schema version this interrogate reads and writes: the highest migration it ships.
    public static var schemaVersion: Int { (try? StoreMigrations.bundled().last?.version) ?? 0 }

    /// The queries waiting for an answer, told when the connection has ended (see `answered`).
    let waiting = Waiting()

    /// How long a query may go unanswered before the connection is given up (a host that
    /// vanished without closing it); nil: as long as it takes.
    let patience: Duration?

    private init(address: StoreAddress, connection: PostgresConnection, logger: Logger, patience: Duration?) {
        self.address = address
        self.connection = connection
        self.logger = logger
        self.patience = patience
        let waiting = waiting
        connection.closeFuture.whenComplete { _ in
            connection.eventLoop.scheduleTask(in: .milliseconds(500)) {
                waiting.failAll(StoreError("the connection to the store has ended"))
            }
        }
    }

    /// Connects, and (unless `checkSchema` is false, for `store init`) checks that the database
    /// holds this interrogate's schema version.
    /// With `patience`, a query not answered in that time closes the connection and fails, so
    /// that a server whose host vanished is noticed (a live session's follower; not bulk work).
    public static func connect(_ address: StoreAddress, checkSchema: Bool = true, patience: Duration? = nil) async throws(StoreError) -> TeamStore {
        guard let patience else { return try await open(address, checkSchema: checkSchema, patience: nil) }
        // A server that accepts the connection and then says nothing is not waited for either;
        // a connection that comes too late is closed.
        let result: Result<TeamStore, StoreError> = await withCheckedContinuation { continuation in
            let once = Once()
            let timer = Task {
                try? await Task.sleep(for: patience)
                if once.claim() {
                    continuation.resume(returning: .failure(StoreError("cannot connect to the team store \(address): no answer in \(patience.components.seconds) s")))
                }
            }
            Task {
                let r: Result<TeamStore, StoreError>
                do throws(StoreError) { r = .success(try await open(address, checkSchema: checkSchema, patience: patience)) } catch { r = .failure(error) }
                if once.claim() {
                    timer.cancel()
                    continuation.resume(returning: r)
                } else if case .success(let store) = r { await store.close() }
            }
        }
        return try result.get()
    }

    private static func open(_ address: StoreAddress, checkSchema: Bool, patience: Duration?) async throws(StoreError) -> TeamStore {
        let logger = Logger(label: "interrogate.store") { _ in SwiftLogNoOpLogHandler() }
        var config: PostgresConnection.Configuration
        if let folder = address.socketFolder {
            config = .init(unixSocketPath: (folder as NSString).appendingPathComponent(".s.PGSQL.\(address.port)"),
                           username: address.user, password: address.password, database: address.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch address.tls {
            case .disable: tls = .disable
            case .prefer, .require:
                do {
                    let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                    tls = address.tls == .require ? .require(context) : .prefer(context)
                } catch {
                    throw StoreError("cannot set up TLS for \(address): \(error)")
                }
            }
            config = .init(host: address.host, port: address.port, username: address.user, password: address.password,
                           database: address.database, tls: tls)
        }
        config.options.connectTimeout = .seconds(10)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        } catch {
            throw StoreError("cannot connect to the team store \(address): \(describe(error))")
        }
        let store = TeamStore(address: address, connection: connection, logger: logger, patience: patience)
        // The row-level policies make the planner's cost estimates large enough for JIT, which
        // then spends about a second compiling each statement of a query that takes milliseconds.
        do { try await store.run("SET jit = off") } catch {
            await store.close()
            throw error
        }
        if checkSchema {
            do { try await store.checkSchemaVersion() } catch {
                await store.close()
                throw error
            }
        }
        return store
    }

    public func close() async {
        try? await connection.close()
    }

    // A store dropped on an error path still closes its connection (the client requires it),
    // which stays alive until the close completes.
    deinit {
        let c = connection
        if !c.isClosed { c.close().whenComplete { _ in _ = c } }
    }

    /// The versions applied to this database, or nil when it has no interrogate schema.
    func appliedMigrations() async throws(StoreError) -> [(version: Int, name: String, sha256: String)]? {
        let exists = try await rows("SELECT pg_catalog.to_regclass('interrogate_migrations') IS NOT NULL", as: Bool.self)
        guard exists.first == true else { return nil }
        return try await rows("SELECT version, name, sha256 FROM interrogate_migrations ORDER BY version",
                              as: (Int, String, String).self).map { (version: $0.0, name: $0.1, sha256: $0.2) }
    }

    func checkSchemaVersion() async throws(StoreError) {
        guard let applied = try await appliedMigrations(), let last = applied.last else {
            throw StoreError("\(address) is not an interrogate team store (it has no interrogate schema): its owner runs `interrogate store init --store URL` first")
        }
        let ours = try StoreMigrations.bundled()
        if last.version > ours.count {
            throw StoreError("\(address) has schema version \(last.version), newer than this interrogate reads (\(ours.count)): upgrade interrogate")
        }
        // The same version from other files is another schema, not this one.
        for m in applied where m.version < 1 || m.version > ours.count || ours[m.version - 1].sha256 != m.sha256 {
            throw StoreError("\(address) applied migration \(m.version) (\(m.name)) from a different file than this interrogate's: its schema is not this version's")
        }
        if last.version < ours.count {
            throw StoreError("\(address) has schema version \(last.version); this interrogate needs \(ours.count): the store's owner runs `interrogate store init --store URL` to upgrade it")
        }
    }

    /// The current role's name and which of the store's groups it belongs to.
    public func whoAmI() async throws(StoreError) -> (user: String, organiser: Bool, reviewer: Bool, adjudicator: Bool) {
        let r = try await rows("""
            SELECT current_user::text,
                   pg_catalog.pg_has_role(current_user, 'interrogate_organiser', 'MEMBER'),
                   pg_catalog.pg_has_role(current_user, 'interrogate_reviewer', 'MEMBER'),
                   pg_catalog.pg_has_role(current_user, 'interrogate_adjudicator', 'MEMBER')
            """, as: (String, Bool, Bool, Bool).self)
        guard let first = r.first else { throw StoreError("the server did not say who you are") }
        return (first.0, first.1, first.2, first.3)
    }

    // MARK: queries

    func rows<each T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: (repeat each T).Type) async throws(StoreError) -> [(repeat each T)] {
        let connection = connection, logger = logger
        return try await answered {
            var out: [(repeat each T)] = []
            for try await row in try await connection.query(query, logger: logger).decode((repeat each T).self) {
                out.append(row)
            }
            return Rows(out)
        }.rows
    }

    func run(_ query: PostgresQuery) async throws(StoreError) {
        let connection = connection, logger = logger
        _ = try await answered { try await connection.query(query, logger: logger); return Rows<Int>([]) }
    }

    /// Rows across the task boundary below.
    struct Rows<R>: @unchecked Sendable {
        var rows: [R]
        init(_ rows: [R]) { self.rows = rows }
    }

    /// `operation`'s answer, or the connection's end. A query sent as the server dies can be
    /// left waiting for an answer that never comes (seen with the server killed mid-append),
    /// so once the connection has closed and a moment has passed, the caller is told so
    /// instead of waiting for ever.
    private func answered<R: Sendable>(_ operation: @escaping @Sendable () async throws -> R) async throws(StoreError) -> R {
        let (connection, patience, address) = (connection, patience, address)
        let result: Result<R, StoreError> = await withCheckedContinuation { continuation in
            let once = Once()
            let id = waiting.add { error in
                if once.claim() { continuation.resume(returning: .failure(error)) }
            }
            let timer = patience.map { p in
                connection.eventLoop.scheduleTask(in: .nanoseconds(p.components.seconds * 1_000_000_000 + p.components.attoseconds / 1_000_000_000)) {
                    guard once.claim() else { return }
                    continuation.resume(returning: .failure(StoreError("\(address) did not answer in \(p.components.seconds) s; the connection is given up")))
                    connection.close().whenComplete { _ in }
                }
            }
            Task {
                let r: Result<R, StoreError>
                do { r = .success(try await operation()) } catch { r = .failure(StoreError(Self.describe(error))) }
                waiting.remove(id)
                timer?.cancel()
                if once.claim() { continuation.resume(returning: r) }
            }
        }
        return try result.get()
    }

    /// For a streamed query, whose rows come one by one: with `patience`, a stream that brings
    /// no row for that long closes the connection, so that the stream fails instead of waiting
    /// for a host that has vanished. `touch` it on every row; `stop` it when done.
    func idleWatch() -> IdleWatch? {
        guard let patience else { return nil }
        let watch = IdleWatch(patience: patience)
        let connection = connection
        let quarter = max(patience.components.seconds * 250_000_000 + patience.components.attoseconds / 4_000_000_000, 1_000_000)
        let task = connection.eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(quarter), delay: .nanoseconds(quarter)) { task in
            if watch.isIdle {
                connection.close().whenComplete { _ in }
                task.cancel()
            }
        }
        watch.task.withLock { $0 = task }
        return watch
    }

    /// Several statements (a migration), one after another in the current transaction.
    func runScript(_ sql: String) async throws(StoreError) {
        for statement in SQLScript.statements(sql) {
            try await run(PostgresQuery(unsafeSQL: statement))
        }
    }

    /// `body` in one transaction; rolled back when it throws.
    func transaction<R: Sendable>(begin: PostgresQuery = "BEGIN", _ body: () async throws(StoreError) -> R) async throws(StoreError) -> R {
        try await run(begin)
        do {
            let r = try await body()
            try await run("COMMIT")
            return r
        } catch {
            try? await run("ROLLBACK")
            throw error
        }
    }

    /// The server's own message for an error, with the state code where it helps, else what
    /// happened to the connection. Never the password.
    static func describe(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let info = e.serverInfo {
                let state = info[.sqlState] ?? ""
                let message = info[.message] ?? "an error"
                switch state {
                case "28P01", "28000": return "the server refused the login: \(message)"
                case "3D000": return "\(message) (create it, or check the URL)"
                case "42501": return "not allowed: \(message)"
                default:
                    let detail = info[.detail].map { " (\($0))" } ?? ""
                    return "\(message)\(detail)" + (state.isEmpty ? "" : " [SQLSTATE \(state)]")
                }
            }
            switch e.code {
            case .serverClosedConnection, .uncleanShutdown: return "the server closed the connection"
            case .authMechanismRequiresPassword: return "the server asks for a password: put it in the URL or $PGPASSWORD"
            case .sslUnsupported: return "the server does not offer TLS (sslmode=require)"
            case .connectionError:
                return e.underlying.map { "cannot reach the server: \($0)" } ?? "cannot reach the server"
            default:
                return e.underlying.map { "\(e.code): \($0)" } ?? "\(e.code)"
            }
        }
        if let e = error as? StoreError { return e.description }
        return "\(error)"
    }
}

/// When a streamed query last brought a row (`TeamStore.idleWatch`).
final class IdleWatch: Sendable {
    let patience: Duration
    private let last = Mutex(ContinuousClock.now)
    let task = Mutex<RepeatedTask?>(nil)

    init(patience: Duration) { self.patience = patience }

    func touch() { last.withLock { $0 = .now } }
    var isIdle: Bool { last.withLock { ContinuousClock.now - $0 > patience } }
    func stop() { task.withLock { $0?.cancel(); $0 = nil } }
}

/// True for the first caller only.
private final class Once: Sendable {
    private let taken = Mutex(false)
    func claim() -> Bool {
        taken.withLock { t in
            if t { return false }
            t = true
            return true
        }
    }
}

/// Queries waiting for an answer, each with what to do if none comes.
final class Waiting: Sendable {
    private let state = Mutex<(next: UInt64, closed: StoreError?, failures: [UInt64: @Sendable (StoreError) -> Void])>((0, nil, [:]))

    /// Registers `fail`; on a connection already ended, calls it at once.
    func add(_ fail: @escaping @Sendable (StoreError) -> Void) -> UInt64 {
        let (id, closed) = state.withLock { s -> (UInt64, StoreError?) in
            s.next += 1
            if s.closed == nil { s.failures[s.next] = fail }
            return (s.next, s.closed)
        }
        if let closed { fail(closed) }
        return id
    }

    func remove(_ id: UInt64) { _ = state.withLock { $0.failures.removeValue(forKey: id) } }

    func failAll(_ error: StoreError) {
        let all = state.withLock { s in
            let f = s.failures
            s.failures = [:]
            s.closed = error
            return f
        }
        for (_, fail) in all { fail(error) }
    }
}
