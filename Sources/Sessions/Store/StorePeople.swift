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
        guard TranscriptStore.isValidRaterId(name) else {
            throw StoreError("'\(TerminalText.escaped(name))' is not a rater id (letters, digits, '.', '_', '-', at most 64)")
        }
        // Identifiers cannot be bound as parameters; the id's alphabet has no quote to escape.
        let quoted = "\"\(name)\""
        let exists = try await rows("SELECT count(*) FROM pg_roles WHERE rolname = \(name)", as: (Int).self).first ?? 0
        var created = false
        if exists == 0 {
            guard let password, !password.isEmpty else {
                throw StoreError("\(name) has no login role yet: give a password on standard input to create one")
            }
            guard !password.contains("\0"), !password.contains("\n") else { throw StoreError("a password cannot hold a NUL or a newline") }
            // A role's password is not a bindable parameter either: an escaped string literal,
            // read the same whatever the server's standard_conforming_strings.
            let literal = "E'" + password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
            try await run(PostgresQuery(unsafeSQL: "CREATE ROLE \(quoted) LOGIN PASSWORD \(literal)"))
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
