/// Reads one provider's server-sent events into chat events.
protocol StreamReader: Sendable {
    /// The chat events one server-sent event carries, and whether the reply is complete.
    /// Throws `.server` for an error object in the stream, `.malformed` for unreadable data.
    mutating func read(_ event: ServerSentEvent) throws(ModelError) -> (events: [ChatEvent], done: Bool)
    /// Set once the reply said why it stopped; a stream that then ends without its final
    /// marker is still complete.
    var finishReason: String? { get }
}
