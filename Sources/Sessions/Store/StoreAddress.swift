import Foundation

/// Where a team store is: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`,
/// from `--store` or `$INTERROGATE_STORE`, the user's own configuration. The password may
/// instead come from `$PGPASSWORD`. Nothing here is ever printed with the password in it.
public struct StoreAddress: Sendable, Equatable, CustomStringConvertible {
    public static let environmentVariable = "INTERROGATE_STORE"

    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP (a server on this machine or a trusted network).
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or nothing.
        case require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// A folder holding the server's Unix socket (`?host=/run/postgresql`), instead of TCP.
    public var socketFolder: String?
    public var tls: TLSMode

    public init(host: String = "127.0.0.1", port: Int = 5432, user: String, password: String? = nil, database: String,
                socketFolder: String? = nil, tls: TLSMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.socketFolder = socketFolder
        self.tls = tls
    }

    /// The address without its password, for messages.
    public var description: String {
        let place = socketFolder.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        return "postgresql://\(user)@\(place)/\(database)"
    }

    /// The address as a URL a person can give back to `--store`: every part but the password
    /// (which stays in the URL they typed, or $PGPASSWORD).
    public var urlWithoutPassword: String {
        var components = URLComponents()
        components.scheme = "postgresql"
        components.user = user
        if socketFolder == nil {
            if host.contains(":") { components.percentEncodedHost = "[\(host)]" } else { components.host = host }
        }
        components.port = port
        components.path = "/" + database
        var query: [URLQueryItem] = []
        if let socketFolder { query.append(URLQueryItem(name: "host", value: socketFolder)) }
        if tls != .prefer { query.append(URLQueryItem(name: "sslmode", value: tls.rawValue)) }
        if !query.isEmpty { components.queryItems = query }
        return components.string ?? description
    }

    /// Whether `text` names a team store rather than a folder.
    public static func isStoreURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a store URL. A port is range-checked, an unknown option or `sslmode` is refused
    /// (a misspelt `sslmode=requre` must not fall back to plain text), and the message never
    /// repeats the password.
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) -> StoreAddress {
        guard isStoreURL(text) else {
            throw Invalid(description: "'\(redacted(text))' is not a PostgreSQL address: use postgresql://USER@HOST[:PORT]/DATABASE")
        }
        guard let parts = URLComponents(string: text) else {
            throw Invalid(description: "'\(redacted(text))' is not a valid URL: use postgresql://USER@HOST[:PORT]/DATABASE (percent-encode special characters)")
        }
        guard let user = parts.user, !user.isEmpty else {
            throw Invalid(description: "\(redacted(text)): no user: each person connects as their own PostgreSQL role, postgresql://USER@HOST/DATABASE")
        }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "\(redacted(text)): no database: postgresql://USER@HOST[:PORT]/DATABASE")
        }
        var address = StoreAddress(host: parts.host.map { $0.hasPrefix("[") ? String($0.dropFirst().dropLast()) : $0 } ?? "",
                                   user: user, password: parts.password, database: database)
        if address.password == nil, let p = environment["PGPASSWORD"], !p.isEmpty { address.password = p }
        // URLComponents reads the port as an Int already; an out-of-range one is refused, not wrapped.
        if let port = parts.port {
            guard (1...65535).contains(port) else {
                throw Invalid(description: "\(redacted(text)): port \(port) is not between 1 and 65535")
            }
            address.port = port
        } else if let rawPortText = text.split(separator: "@").last?.split(separator: "/").first, rawPortText.hasSuffix(":") {
            throw Invalid(description: "\(redacted(text)): an empty port")
        }
        for item in parts.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": address.tls = .disable
                case "allow", "prefer": address.tls = .prefer
                case "require", "verify-ca", "verify-full": address.tls = .require
                default: throw Invalid(description: "\(redacted(text)): sslmode '\(item.value ?? "")' is not one of disable, prefer, require")
                }
            case "host":
                guard let v = item.value, v.hasPrefix("/") else {
                    throw Invalid(description: "\(redacted(text)): host= takes the folder of the server's Unix socket (an absolute path)")
                }
                address.socketFolder = v
            default:
                throw Invalid(description: "\(redacted(text)): unknown option '\(item.name)' (known: sslmode, host)")
            }
        }
        if address.host.isEmpty && address.socketFolder == nil {
            throw Invalid(description: "\(redacted(text)): no host: postgresql://USER@HOST[:PORT]/DATABASE")
        }
        return address
    }

    /// `text` with any password in it replaced, for messages: whatever stands between the
    /// scheme (or the start) and the last `@` after a `:` is taken for credentials.
    public static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        guard start <= at else { return text }
        let credentials = text[start..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
