import Foundation

/// Checks a base URL before any request is built from it, and before it is recorded in a
/// transcript or printed: http or https, a host, a port in 1...65535, no control characters
/// (a line break in an address would otherwise reach the terminal raw), and no secret.
///
/// A base URL is written into every session's header and shown by `models list` and
/// `models check`, so it may carry no user info (`user:password@`), no query string and no
/// fragment: a key belongs in the environment variable named by `api_key_env`. Messages
/// show such a URL with those parts replaced by `…`, never the secret.
///
/// The authority (host and port) is read from the URL's text here, not through Foundation's
/// parser, whose port overflows on long digit strings and then slips past a range check.
/// The port is 1 to 5 ASCII digits without a leading zero, 1...65535; an IPv6 host is
/// written in brackets, `http://[::1]:8080/v1`.
public enum EndpointURL {
    /// What is wrong with `url`, or nil when it can be used. The URL is shown escaped and
    /// with any user info, query or fragment replaced by `…`.
    public static func problem(_ url: String) -> String? {
        let shown = "\"\(TerminalText.escaped(redacted(url)))\""
        if let c = url.unicodeScalars.first(where: TerminalText.isControl) {
            return "\(shown) contains a control character (\(TerminalText.escaped(String(c)))); a base URL is one line, like http://127.0.0.1:8080/v1"
        }
        guard let schemeEnd = url.range(of: "://") else {
            return "\(shown) must start with http:// or https://, like http://127.0.0.1:8080/v1"
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return "\(shown) must start with http:// or https://" }
        let afterScheme = url[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let rest = afterScheme[authority.endIndex...]
        if authority.contains("@") {
            return "\(shown) carries user info (user:password@), which would be written into every transcript; "
                + "remove it and put the key in an environment variable named by api_key_env"
        }
        if rest.contains("?") || rest.contains("#") {
            return "\(shown) has a query string or fragment (?… or #…), which would be written into every transcript; "
                + "remove it and put the key in an environment variable named by api_key_env"
        }
        // Host, then an optional port.
        let host: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return "\(shown) opens an IPv6 address with [ and never closes it with ]" }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let tail = authority[authority.index(after: close)...]
            if tail.isEmpty { portText = nil } else {
                guard tail.hasPrefix(":") else { return "\(shown) has \"\(TerminalText.escaped(String(tail)))\" after ]; only :PORT may follow an IPv6 address" }
                portText = tail.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
            portText = nil
        }
        guard !host.isEmpty else { return "\(shown) names no host" }
        if let p = portText {
            if p.isEmpty { return "\(shown) has an empty port after the colon; write the port (like :8080) or leave out the colon" }
            guard p.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return "\(shown) has port \"\(TerminalText.escaped(String(p.prefix(40))))\"; a port is written in digits only, 1...65535"
            }
            if p.count > 1 && p.hasPrefix("0") { return "\(shown) has port \(p.prefix(40)) with a leading zero; write it without (like :8080)" }
            // At most five digits are converted, so no digit string can overflow.
            guard p.count <= 5, let n = Int(p), (1...65535).contains(n) else {
                return "\(shown) has port \(p.count > 40 ? String(p.prefix(40)) + "…" : String(p)), outside 1...65535"
            }
        }
        guard URL(string: url) != nil, URLComponents(string: url)?.host != nil else {
            return "\(shown) is not a URL; write it like http://127.0.0.1:8080/v1"
        }
        return nil
    }

    /// `url` with any user info, query string and fragment replaced by `…`: how an address
    /// is shown or recorded, so a secret written into it goes no further.
    public static func redacted(_ url: String) -> String {
        var out = Substring(url)
        // Query and fragment: everything from the first ? or # on.
        if let i = out.firstIndex(where: { $0 == "?" || $0 == "#" }) { out = out[...i] + "…" }
        guard let schemeEnd = out.range(of: "://") else { return String(out) }
        let afterScheme = out[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return String(out) }
        return String(out[..<schemeEnd.upperBound]) + "…" + String(out[at...])
    }
}
