import Foundation

/// How patient a client is and how much it accepts. Defaults suit remote APIs; tests and
/// local servers may set their own.
///
/// The first-byte and idle timeouts count pieces of the reply (answer or reasoning text), not
/// bytes: a server that sends only keep-alive comments (`: keepalive`), pings, or events
/// without text is not answering, and the reply ends at the timeout with the text received so
/// far kept. A short request (the model list) and an error body must arrive in full within
/// the first-byte timeout.
public struct EndpointOptions: Sendable, Equatable {
    /// Time to open the connection.
    public var connectTimeout: Double = 10
    /// Time from sending the request to the first piece of reply text, response headers
    /// included (covers model loading and prompt processing). Keep-alive comments, pings and
    /// events without text do not count.
    public var firstByteTimeout: Double = 120
    /// Longest wait for the next piece of reply text once the reply has started; keep-alive
    /// comments and events without text do not restart it.
    public var idleTimeout: Double = 60
    /// Retries for HTTP 429 and 5xx, before any text has arrived.
    public var maxRetries: Int = 3
    /// First backoff delay; doubled after each retry. `Retry-After` wins when the server sends it.
    public var retryBaseDelay: Double = 1
    /// Longest wait between retries, whatever `Retry-After` says.
    public var maxRetryDelay: Double = EndpointOptions.retryDelayCap
    /// Largest reply accepted (answer plus reasoning), in UTF-8 bytes.
    public var maxReplyBytes: Int = 1_000_000

    public init() {}

    // What a configuration may set: enough for any real server, small enough that no
    // arithmetic on them overflows and no wait outlives a person's patience.
    public static let timeoutRange: ClosedRange<Double> = 0.01...3600
    public static let retriesRange: ClosedRange<Int> = 0...10
    public static let retryDelayCap: Double = 30
    public static let retryBaseDelayRange: ClosedRange<Double> = 0...retryDelayCap
    public static let replyBytesRange: ClosedRange<Int> = 1...100_000_000

    /// What is out of range, or nil. Entries from files are checked as they are read; this
    /// catches options built in code.
    public var problem: String? {
        for (name, value) in [("connect timeout", connectTimeout), ("first-byte timeout", firstByteTimeout), ("idle timeout", idleTimeout)]
        where !(value.isFinite && Self.timeoutRange.contains(value)) {
            return "the \(name) must be between \(ModelError.format(Self.timeoutRange.lowerBound)) and \(ModelError.format(Self.timeoutRange.upperBound)) s"
        }
        if !Self.retriesRange.contains(maxRetries) { return "max_retries must be between \(Self.retriesRange.lowerBound) and \(Self.retriesRange.upperBound)" }
        if !(retryBaseDelay.isFinite && Self.retryBaseDelayRange.contains(retryBaseDelay)) {
            return "retry_base_delay must be between 0 and \(ModelError.format(Self.retryDelayCap)) s"
        }
        if !(maxRetryDelay.isFinite && (0...Self.retryDelayCap).contains(maxRetryDelay)) {
            return "the longest wait between retries must be between 0 and \(ModelError.format(Self.retryDelayCap)) s"
        }
        if !Self.replyBytesRange.contains(maxReplyBytes) {
            return "max_reply_bytes must be between \(Self.replyBytesRange.lowerBound) and \(Self.replyBytesRange.upperBound)"
        }
        return nil
    }

    /// Whole milliseconds of `seconds`, clamped to 0...one day, for timers: never traps,
    /// whatever the value.
    static func milliseconds(_ seconds: Double) -> Int64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64(min(seconds, 86_400) * 1000)
    }
}
