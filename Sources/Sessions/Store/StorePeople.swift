import Crypto
import Foundation
import PostgresNIO

/// What a person may do in a team store: the group role their own login role is a member of.
public enum StoreRole: String, Sendable, CaseIterable {
    case organiser, reviewer, adjudicator

    var groupRole: String { "interrogate_\(rawValue)" }
}

extension TeamStore {
    /// Makes `name` a person of the store: a login role of that name (created with `password`
    /// when it does not exist) in the group for `role`. A rater's id is the role's name, so a
    /// file's owner and the person the server lets write it are the same.
    /// Returns whether the login role was created.
    public func addRater(_ name: String, role: StoreRole, password: String?) async throws(StoreError) -> Bool {
        // PostgreSQL cuts a role's name at 63 bytes; a longer id would never match its files.
        guard TranscriptStore.isValidRaterId(name), name.utf8.count <= 63 else {
            throw StoreError("'\(TerminalText.escaped(name))' is not a rater id the store can hold (letters, digits, '.', '_', '-', at most 63)")
        }
        let lower = name.lowercased()
        guard !lower.hasPrefix("interrogate_"), !lower.hasPrefix("pg_") else {
            throw StoreError("'\(name)' is a name the store or PostgreSQL keeps for itself; a person's id cannot start with interrogate_ or pg_")
        }
        // Identifiers cannot be bound as parameters; the id's alphabet has no quote to escape.
        let quoted = "\"\(name)\""
        let existing = try await rows("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = \(name)", as: Bool.self).first
        var created = false
        if let canLogin = existing {
            // A group role made a member of a group would make everyone in it that role.
            guard canLogin else { throw StoreError("'\(name)' is a role nobody logs in as, not a person's") }
        } else {
            guard let password, !password.isEmpty else {
                throw StoreError("\(name) has no login role yet: give a password on standard input to create one")
            }
            // What the server stores is a SCRAM verifier made here: the password itself never
            // reaches the server, its logs or its statistics.
            let verifier = try ScramVerifier.make(password: password)
            try await run(PostgresQuery(unsafeSQL: "CREATE ROLE \(quoted) LOGIN PASSWORD '\(verifier)'"))
            created = true
        }
        try await run(PostgresQuery(unsafeSQL: "GRANT \(role.groupRole) TO \(quoted)"))
        return created
    }

    /// Lets `adjudicator` read every file of `session` in `collection`.
    public func assign(session: String, in collection: StoreCollection, adjudicator: String) async throws(StoreError) {
        guard TranscriptStore.isValidRaterId(adjudicator) else {
            throw StoreError("'\(TerminalText.escaped(adjudicator))' is not a rater id")
        }
        try await run("""
            INSERT INTO interrogate_assignments (collection, session_id, adjudicator)
            VALUES (\(collection.name), \(session), \(adjudicator)) ON CONFLICT DO NOTHING
            """)
    }
}

/// A SCRAM-SHA-256 verifier (RFC 5802, RFC 7677) in PostgreSQL's form,
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as psql's `\password` makes.
enum ScramVerifier {
    static let iterations = 4096

    /// Printable ASCII only: SASLprep leaves it as it is, so the server and every client
    /// derive the same key from it.
    static func make(password: String, salt: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }) throws(StoreError) -> String {
        guard password.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) }) else {
            throw StoreError("a password here is printable ASCII characters (letters, digits, punctuation, spaces)")
        }
        let key = SymmetricKey(data: Array(password.utf8))
        // PBKDF2-HMAC-SHA256, one 32-byte block.
        var u = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var salted = u
        for _ in 1..<iterations {
            u = Array(HMAC<SHA256>.authenticationCode(for: u, using: key))
            for i in salted.indices { salted[i] ^= u[i] }
        }
        let saltedKey = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: saltedKey))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: saltedKey))
        func b64(_ b: [UInt8]) -> String { Data(b).base64EncodedString() }
        return "SCRAM-SHA-256$\(iterations):\(b64(salt))$\(b64(storedKey)):\(b64(serverKey))"
    }
}
