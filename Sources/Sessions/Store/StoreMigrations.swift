import Crypto
import Foundation
import PostgresNIO

/// The team store's schema: versioned SQL files (`Resources/migrations/NNNN-name.sql`) applied
/// in order by `interrogate store init`. An applied file is recorded with its sha256, so a
/// database whose history differs from this interrogate's files is refused, never patched.
public struct StoreMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    public var sha256: String
}

public enum StoreMigrations {
    public static func bundled() throws(StoreError) -> [StoreMigration] {
        guard let folder = Bundle.module.url(forResource: "migrations", withExtension: nil) else {
            throw StoreError("the team store's migrations are missing from the installation")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".sql") }.sorted()
        var out: [StoreMigration] = []
        for name in names {
            let digits = name.prefix { $0.isASCII && $0.isNumber }
            guard digits.count == 4, let version = Int(digits), version == out.count + 1,
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw StoreError("migration file \(name) is misnamed or unreadable (NNNN-name.sql, numbered from 0001 without gaps)")
            }
            out.append(StoreMigration(version: version, name: String(name.dropLast(4)), sql: sql,
                                      sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()))
        }
        return out
    }
}

extension TeamStore {
    /// What `store init` did.
    public struct InitResult: Sendable, Equatable {
        public var applied: [Int]
        public var version: Int
    }

    /// Applies the migrations this database lacks, all in one transaction (a failed one leaves
    /// the database as it was), under an advisory lock so that two `store init` at once apply
    /// each file once.
    public func initialise() async throws(StoreError) -> InitResult {
        let migrations = try StoreMigrations.bundled()
        return try await transaction { () async throws(StoreError) -> InitResult in
            // One init at a time per database; released at COMMIT or ROLLBACK.
            try await run("SELECT pg_catalog.pg_advisory_xact_lock(7305146921::int8)")
            try await run("""
                CREATE TABLE IF NOT EXISTS interrogate_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    sha256     text NOT NULL,
                    applied_by name NOT NULL DEFAULT current_user,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let applied = try await rows("SELECT version, name, sha256 FROM interrogate_migrations ORDER BY version", as: (Int, String, String).self)
            if let newest = applied.last, newest.0 > migrations.count {
                throw StoreError("\(address) has schema version \(newest.0), newer than this interrogate knows (\(migrations.count)): upgrade interrogate")
            }
            for (version, name, sha) in applied {
                guard version >= 1, version <= migrations.count else {
                    throw StoreError("\(address) records a migration \(version) that this interrogate does not have")
                }
                let ours = migrations[version - 1]
                if ours.sha256 != sha {
                    throw StoreError("\(address) applied migration \(version) (\(name)) from a different file than this interrogate's \(ours.name): the database's schema is not this version's; nothing was changed")
                }
            }
            var done: [Int] = []
            for m in migrations.dropFirst(applied.count) {
                do throws(StoreError) {
                    try await runScript(m.sql)
                } catch {
                    throw StoreError("migration \(m.name) failed, nothing of it was applied: \(error.description)")
                }
                try await run("INSERT INTO interrogate_migrations (version, name, sha256) VALUES (\(m.version), \(m.name), \(m.sha256))")
                done.append(m.version)
            }
            return InitResult(applied: done, version: migrations.count)
        }
    }
}
