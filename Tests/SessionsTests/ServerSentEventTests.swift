import Testing
@testable import Sessions

@Suite("Server-sent event parsing")
struct ServerSentEventTests {
    @Test("events are whole whatever the read boundaries, with CRLF split between reads")
    func boundaries() throws {
        var p = ServerSentEventParser()
        var events = try p.feed(Array("event: delta\r".utf8))
        events += try p.feed(Array("\ndata: {\"a\":1}\r".utf8))
        events += try p.feed(Array("\n\r\ndata: x\n".utf8))
        events += try p.feed(Array("data: y\n\n: a comment\n\ndata:z".utf8))
        events += try p.finish()
        #expect(events == [
            ServerSentEvent(event: "delta", data: #"{"a":1}"#),
            ServerSentEvent(event: "message", data: "x\ny"),
            ServerSentEvent(event: "message", data: "z"),
        ])
    }

    @Test("a line longer than the limit is refused instead of filling memory")
    func longLine() {
        var p = ServerSentEventParser(maxLineBytes: 10)
        #expect(throws: ModelError.replyTooLarge(capBytes: 10)) { try p.feed(Array("data: 0123456789".utf8)) }
    }
}
