import Foundation

/// Why a reply failed, each with a message that says what to do about it.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case configuration(String)
    case cannotConnect(url: String, reason: String)
    case connectTimeout(url: String, seconds: Double)
    case firstByteTimeout(seconds: Double)
    case idleTimeout(seconds: Double)
    case http(status: Int, message: String)
    /// An error object the server sent inside the stream (often with HTTP 200).
    case server(message: String)
    case malformed(String)
    case invalidUTF8
    case replyTooLarge(capBytes: Int)
    /// The connection ended before the reply said it was complete.
    case incomplete
    case connectionLost(String)
    /// The server answered with a redirect, which is never followed.
    case redirected(url: String, location: String?)
    case scriptExhausted(replies: Int)
    case localServer(String)

    public var description: String {
        switch self {
        case .configuration(let m): m
        case let .cannotConnect(url, reason):
            "cannot connect to \(url): \(reason). Is the server running, and is the base URL right?"
        case let .connectTimeout(url, s):
            "no connection to \(url) within \(Self.format(s)) s: check the address and the network"
        case .firstByteTimeout(let s):
            "the server accepted the request but sent no reply for \(Self.format(s)) s (keep-alive messages do not count); it may be overloaded or loading the model. Try again or raise the first-byte timeout"
        case .idleTimeout(let s):
            "the reply stalled: no more of it arrived for \(Self.format(s)) s (keep-alive messages do not count). The text received so far is kept; send again to retry"
        case let .http(status, message):
            "the server answered HTTP \(status)\(message.isEmpty ? "" : ": \(message)")" + Self.hint(status)
        case .server(let m): "the server reported an error during the reply: \(m)"
        case .malformed(let m): "the server sent a stream this app cannot read: \(m)"
        case .invalidUTF8: "the server sent bytes that are not UTF-8 text; the reply was stopped there"
        case .replyTooLarge(let cap): "the reply passed the size cap of \(cap) bytes and was stopped; raise max_reply_bytes to allow longer replies"
        case .incomplete: "the connection closed before the reply was complete (no finish reason, no [DONE]); the text received so far is kept"
        case .connectionLost(let m): "the connection was lost during the reply (\(m)); the text received so far is kept"
        case let .redirected(url, location):
            "\(TerminalText.escaped(url)) answered with a redirect to \(location.map(TerminalText.escaped) ?? "another address"), which is not followed: "
                + "an API key and the conversation go only to the address you configured. Set the base URL to the address that answers"
        case .scriptExhausted(let n): "the script has \(n) repl\(n == 1 ? "y" : "ies") and all have been used"
        case .localServer(let m): m
        }
    }

    /// What went wrong in words that name neither the model, its address nor its provider:
    /// what a blind study screen may show.
    public var blindSummary: String {
        switch self {
        case .configuration: "a configuration problem"
        case .cannotConnect, .connectTimeout: "no connection"
        case .firstByteTimeout, .idleTimeout: "timed out"
        case .http(let status, _): "HTTP \(status)"
        case .server: "a server error"
        case .malformed, .invalidUTF8: "an unreadable reply"
        case .replyTooLarge: "the reply was too long"
        case .incomplete, .connectionLost: "the connection ended early"
        case .redirected: "a redirect"
        case .scriptExhausted: "no reply"
        case .localServer: "the server did not start"
        }
    }

    private static func hint(_ status: Int) -> String {
        switch status {
        case 401, 403: " (check the API key variable of this model)"
        case 404: " (check the base URL and the model name)"
        case 429: " (rate limited; retries were used up)"
        case 500...599: " (the server failed; retries were used up)"
        default: ""
        }
    }

    /// Seconds as a person reads them: "2", "0.5".
    public static func format(_ s: Double) -> String {
        guard s.isFinite, abs(s) < 1e15 else { return String(format: "%g", s) }
        return s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s)
    }
}
