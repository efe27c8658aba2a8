import Foundation
import Testing
import TestSupport
@testable import Sessions

/// A server that answers 200 and then sends only keep-alive comments (or pings, or events
/// with no text) is not making progress: the first-byte and idle timeouts count pieces of the
/// reply, not bytes, so such a reply ends with a clear error and keeps the text it had.
@Suite("Keep-alive without a reply")
struct KeepAliveTests {
    static func options(firstByte: Double = 1, idle: Double = 1) -> EndpointOptions {
        var o = ModelFaultTests.fastOptions()
        o.connectTimeout = 2
        o.firstByteTimeout = firstByte
        o.idleTimeout = idle
        return o
    }

    func reply(_ provider: String, _ steps: [MisbehavingServer.Step], options: EndpointOptions = options()) async throws -> ReplyRecorder? {
        let server = try await MisbehavingServer { _, _ in steps }
        let r = await EndpointSafetyTests().collect(EndpointSafetyTests().model(provider, port: server.port, options: options)
            .stream(ModelFaultTests.question), within: EndpointSafetyTests.hangGuard)
        await server.shutdown()
        return r
    }

    static let openAIEmptyDelta = Array(#"data: {"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\#n\#n"#.utf8)
    static let anthropicPing = Array("event: ping\ndata: {\"type\":\"ping\"}\n\n".utf8)

    @Test("keep-alive comments alone end in the first-byte timeout: they are not a reply", arguments: ["openai", "anthropic"])
    func commentsOnly(provider: String) async throws {
        let r = try #require(try await reply(provider, [.head(200), .keepAlive(every: 100)]))
        #expect(r.error == .firstByteTimeout(seconds: 1))
        #expect(r.text.isEmpty)
        #expect(r.error?.description.contains("keep-alive") == true, "\(r.error?.description ?? "")")
    }

    @Test("events that carry no text (empty deltas, pings) repeated forever end in the first-byte timeout")
    func emptyEventsOnly() async throws {
        let openai = try #require(try await reply("openai", [.head(200), .keepAlive(every: 100, bytes: Self.openAIEmptyDelta)]))
        #expect(openai.error == .firstByteTimeout(seconds: 1))
        let anthropic = try #require(try await reply("anthropic", [.head(200), .keepAlive(every: 100, bytes: Self.anthropicPing)]))
        #expect(anthropic.error == .firstByteTimeout(seconds: 1))
    }

    @Test("keep-alive comments after some text end in the idle timeout, and the text so far is kept")
    func commentsAfterText() async throws {
        // The text is sent at once: a first-byte timeout long enough for a loaded machine, so
        // only the idle timeout can end the reply.
        let r = try #require(try await reply("openai", [.head(200), SSE.delta("I was "), .keepAlive(every: 100)], options: Self.options(firstByte: 120, idle: 1)))
        #expect(r.text == "I was ")
        #expect(r.error == .idleTimeout(seconds: 1))
        #expect(r.status != .complete)
    }

    @Test("keep-alive comments before the first text are fine while the first-byte timeout has not passed")
    func commentsThenText() async throws {
        let r = try #require(try await reply("openai", [.head(200), .keepAlive(every: 100, times: 3)] + Array(SSE.okStream(["late ", "but here"]).dropFirst()),
                                             options: Self.options(firstByte: 10, idle: 10)))
        #expect(r.error == nil)
        #expect(r.text == "late but here")
        #expect(r.status == .complete)
    }

    @Test("an error body that trickles on without end is not waited for: the error is reported at the first-byte timeout")
    func endlessErrorBody() async throws {
        var o = Self.options()
        o.maxRetries = 0
        let r = try #require(try await reply("openai", [.head(500, [("content-type", "application/json")]), .keepAlive(every: 100, bytes: Array(" ".utf8))], options: o))
        #expect(r.error == .firstByteTimeout(seconds: 1))
    }

    @Test("a model list that trickles on without end is not waited for: asking for the first model ends at the first-byte timeout")
    func endlessModelList() async throws {
        let server = try await MisbehavingServer { _, _ in
            [.head(200, [("content-type", "application/json")]), .bytes(Array("{".utf8)), .keepAlive(every: 100, bytes: Array(" ".utf8))]
        }
        let (url, o) = (server.baseURL("t"), Self.options())
        let outcome = await EndpointSafetyTests.firstModelOutcome(url, o)
        #expect(outcome == ModelError.firstByteTimeout(seconds: 1).description, "\(outcome ?? "still waiting after \(EndpointSafetyTests.hangGuard) s")")
        await server.shutdown()
    }
}
