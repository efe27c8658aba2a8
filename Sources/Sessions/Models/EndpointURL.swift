import Foundation

/// Checks a base URL before any request is built from it: http or https, a host, a port in
/// 1...65535, and no control characters (a line break in an address would otherwise reach
/// the terminal raw, and an out-of-range port traps deep in the HTTP client).
public enum EndpointURL {
    /// What is wrong with `url`, or nil when it can be used. The URL is shown escaped.
    public static func problem(_ url: String) -> String? {
        if let c = url.unicodeScalars.first(where: TerminalText.isControl) {
            return "\"\(TerminalText.escaped(url))\" contains a control character (\(TerminalText.escaped(String(c)))); a base URL is one line, like http://127.0.0.1:8080/v1"
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            return "\"\(url)\" is not a URL; write it like http://127.0.0.1:8080/v1"
        }
        guard scheme == "http" || scheme == "https" else {
            return "\"\(url)\" must start with http:// or https://"
        }
        guard let host = parts.host, !host.isEmpty else { return "\"\(url)\" names no host" }
        if let port = parts.port, !(1...65535).contains(port) {
            return "\"\(url)\" has port \(port), outside 1...65535"
        }
        guard URL(string: url) != nil else { return "\"\(url)\" is not a URL; write it like http://127.0.0.1:8080/v1" }
        return nil
    }
}
