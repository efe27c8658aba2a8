import Foundation

/// One server-sent event: its type (`event:` field, "message" when absent) and data.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String
    public var data: String
}

/// Turns the bytes of a `text/event-stream` body into events as they arrive, whatever the
/// chunk boundaries. Lines are decoded as UTF-8 only when whole, so a character split across
/// two network reads is not mistaken for bad input.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var data: [String] = []
    private var eventType: String?
    private var skipNextLF = false
    private let maxLineBytes: Int

    public init(maxLineBytes: Int = 8 << 20) { self.maxLineBytes = maxLineBytes }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ModelError) -> [ServerSentEvent] {
        pending.append(contentsOf: bytes)
        var events: [ServerSentEvent] = []
        var start = 0
        for i in pending.indices {
            let b = pending[i]
            // \r\n is one line break, even when the two bytes arrive in different reads.
            if b == 0x0A && skipNextLF { skipNextLF = false; start = i + 1; continue }
            skipNextLF = false
            if b == 0x0A || b == 0x0D {
                if let e = try line(pending[start..<i]) { events.append(e) }
                start = i + 1
                skipNextLF = b == 0x0D
            }
        }
        pending.removeFirst(start)
        if pending.count > maxLineBytes { throw .replyTooLarge(capBytes: maxLineBytes) }
        return events
    }

    /// At the end of the body: an event whose closing blank line never came is still delivered.
    public mutating func finish() throws(ModelError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if !pending.isEmpty {
            if let e = try line(pending[...]) { events.append(e) }
            pending.removeAll()
        }
        if let e = dispatch() { events.append(e) }
        return events
    }

    private mutating func line(_ bytes: ArraySlice<UInt8>) throws(ModelError) -> ServerSentEvent? {
        if bytes.isEmpty { return dispatch() }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
        if text.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "data": data.append(String(value))
        case "event": eventType = String(value)
        default: break // id and retry do not matter for one-shot replies
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer { data = []; eventType = nil }
        guard !data.isEmpty else { return nil }
        return ServerSentEvent(event: eventType ?? "message", data: data.joined(separator: "\n"))
    }
}
