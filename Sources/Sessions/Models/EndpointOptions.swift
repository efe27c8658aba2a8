import Foundation

/// How patient a client is and how much it accepts. Defaults suit remote APIs; tests and
/// local servers may set their own.
public struct EndpointOptions: Sendable, Equatable {
    /// Time to open the connection.
    public var connectTimeout: Double = 10
    /// Time from sending the request to the first byte of the reply (covers model loading
    /// and prompt processing).
    public var firstByteTimeout: Double = 120
    /// Longest silence allowed once the reply has started.
    public var idleTimeout: Double = 60
    /// Retries for HTTP 429 and 5xx, before any text has arrived.
    public var maxRetries: Int = 3
    /// First backoff delay; doubled after each retry. `Retry-After` wins when the server sends it.
    public var retryBaseDelay: Double = 1
    /// Longest wait between retries, whatever `Retry-After` says.
    public var maxRetryDelay: Double = 60
    /// Largest reply accepted (answer plus reasoning), in UTF-8 bytes.
    public var maxReplyBytes: Int = 1_000_000

    public init() {}
}
