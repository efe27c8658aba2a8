import Foundation
import NIOHTTP1
import Testing
import TestSupport
@testable import Sessions

/// Where a request may go and how long it may wait: redirects, silent servers, and
/// addresses and numbers read from configuration.
@Suite("Endpoint safety: redirects, silent servers, bad addresses and numbers")
struct EndpointSafetyTests {
    /// How long a reply may take before the test calls it a hang. Far above the 1 s timeouts
    /// under test: on a 2-core machine the test pool can be held for a minute by other suites'
    /// synchronous work, and then the guard and the finished reply wake together.
    static let hangGuard = 150.0

    /// What asking a server for its first model ends in: the model, the error, or nil when it
    /// was still waiting after `hangGuard` seconds (a hang).
    static func firstModelOutcome(_ url: String, _ options: EndpointOptions) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do { return try await ModelFactory.firstModel(baseURL: url, apiKey: nil, options: options) } catch { return "\(error)" }
            }
            group.addTask { try? await Task.sleep(for: .seconds(Self.hangGuard)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }


    /// Collects a reply, giving up (and recording an issue) if it has not ended within `seconds`:
    /// a hang must fail the test, not stall the suite.
    func collect(_ stream: AsyncStream<ChatEvent>, within seconds: Double) async -> ReplyRecorder? {
        await withTaskGroup(of: ReplyRecorder?.self) { group in
            group.addTask { await ReplyRecorder.collect(stream) }
            group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil { Issue.record("the reply was still waiting after \(seconds) s") }
            return first
        }
    }

    func model(_ provider: String, port: Int, options: EndpointOptions = ModelFaultTests.fastOptions()) -> any ChatModel {
        provider == "openai"
            ? OpenAICompatibleModel(baseURL: "http://127.0.0.1:\(port)/t/v1", model: "m", apiKey: "sk-secret", parameters: .init(), options: options)
            : AnthropicModel(baseURL: "http://127.0.0.1:\(port)", model: "m", apiKey: "sk-ant-secret", parameters: .init(), options: options)
    }

    // MARK: redirects

    @Test("a redirect to another address is not followed: the key and the conversation never reach it, and the error says so",
          arguments: ["openai", "anthropic"])
    func redirectNotFollowed(provider: String) async throws {
        let other = try await MisbehavingServer { _, _ in SSE.okStream(["taken"]) }
        let target = "http://127.0.0.1:\(other.port)/elsewhere"
        let first = try await MisbehavingServer { _, _ in [.head(307, [("location", target), ("content-type", "text/plain")]), .end] }
        let r = try #require(await collect(model(provider, port: first.port).stream(ModelFaultTests.question), within: Self.hangGuard))
        #expect(other.requests.isEmpty, "the redirect was followed: \(other.requests.map(\.headers))")
        #expect(first.requests.count == 1)
        let message = r.error?.description ?? ""
        #expect(message.contains("redirect") && message.contains(target), "\(message)")
        #expect(r.text.isEmpty)
        await other.shutdown()
        await first.shutdown()
    }

    @Test("asking a server for its first model does not follow a redirect either")
    func firstModelRedirect() async throws {
        let other = try await MisbehavingServer { _, _ in [.head(200, [("content-type", "application/json")]), .bytes(Array(#"{"data":[{"id":"x"}]}"#.utf8)), .end] }
        let first = try await MisbehavingServer { _, _ in [.head(302, [("location", "http://127.0.0.1:\(other.port)/models")]), .end] }
        var message = ""
        do { _ = try await ModelFactory.firstModel(baseURL: first.baseURL("t"), apiKey: "sk-secret", options: ModelFaultTests.fastOptions()) } catch {
            message = error.description
        }
        #expect(other.requests.isEmpty)
        #expect(message.contains("redirect"), "\(message)")
        await other.shutdown()
        await first.shutdown()
    }

    // MARK: silent servers

    @Test("a server that accepts the request and never answers ends in the first-byte timeout", arguments: ["openai", "anthropic"])
    func acceptsNeverAnswers(provider: String) async throws {
        let server = try await MisbehavingServer { _, _ in [] }
        var options = ModelFaultTests.fastOptions()
        options.connectTimeout = 0.5
        options.firstByteTimeout = 1
        let r = await collect(model(provider, port: server.port, options: options).stream(ModelFaultTests.question), within: Self.hangGuard)
        #expect(r?.error == .firstByteTimeout(seconds: 1))
        #expect(server.requests.count == 1)
        await server.shutdown()
    }

    @Test("asking for the first model of a server that sends headers and then nothing ends in the first-byte timeout",
          arguments: [false, true])
    func firstModelSilent(sendsHeaders: Bool) async throws {
        let server = try await MisbehavingServer { _, _ in sendsHeaders ? [.head(200, [("content-type", "application/json")]), .pause(milliseconds: 60_000)] : [] }
        var options = ModelFaultTests.fastOptions()
        options.connectTimeout = 0.5
        options.firstByteTimeout = 1
        let (url, fixed) = (server.baseURL("t"), options)
        let outcome = await Self.firstModelOutcome(url, fixed)
        #expect(outcome == ModelError.firstByteTimeout(seconds: 1).description, "\(outcome ?? "still waiting after \(Self.hangGuard) s")")
        await server.shutdown()
    }

    // MARK: retries

    @Test("the wait between retries is capped at 30 s, also when Retry-After asks for longer; a shorter Retry-After is honoured")
    func retryDelayCapped() throws {
        var options = EndpointOptions()
        options.retryBaseDelay = 1
        let s = SSEStreamer(url: "http://127.0.0.1:9/v1", options: options, errorMessage: { $0 })
        #expect(s.retryDelay([:], attempt: 0) == 1)
        #expect(s.retryDelay([:], attempt: 3) == 8)
        #expect(s.retryDelay([:], attempt: 10) == 30)
        #expect(s.retryDelay(["retry-after": "86400"], attempt: 0) == 30)
        #expect(s.retryDelay(["retry-after": "nan"], attempt: 0) == 1)
        #expect(s.retryDelay(["retry-after": "2"], attempt: 4) == 2)
    }

    // MARK: addresses and numbers from configuration

    @Test("a base URL that cannot be used is refused with the reason, never a crash", arguments: [
        ("http://127.0.0.1:65536/v1", "port 65536"),
        ("http://127.0.0.1:0/v1", "port 0"),
        ("ftp://127.0.0.1/v1", "http"),
        ("http:///v1", "host"),
        ("127.0.0.1:8080/v1", "http"),
        ("http://127.0.0.1:8080/v1\r\nX-Injected: 1", #"\r\n"#),
    ])
    func badBaseURL(url: String, reason: String) async throws {
        let entry = ModelEntry(name: "x", provider: .openai, baseURL: url, model: "m", source: "test")
        var message = ""
        do { _ = try await ModelFactory.make(entry, environment: [:], installation: nil) } catch { message = error.description }
        #expect(message.contains(reason), "\(message)")
        #expect(!message.contains("\r"))
    }

    @Test("numbers and addresses in the configuration are range-checked and reported as file:line:column", arguments: [
        ("models:\n  x:\n    provider: openai\n    base_url: http://127.0.0.1:65536/v1\n", "4:15", "65536"),
        ("models:\n  x:\n    provider: openai\n    base_url: \"http://h/v1\\r\\n\"\n", "4:15", #"\r\n"#),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    max_retries: 9223372036854775807\n", "5:18", "max_retries"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    max_reply_bytes: 9223372036854775807\n", "5:22", "max_reply_bytes"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    timeouts: {first_byte: 1e300}\n", "5:28", "first_byte"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    retry_base_delay: 1e300\n", "5:23", "retry_base_delay"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    parameters: {top_logprobs: 9223372036854775807}\n", "5:32", "top_logprobs"),
    ])
    func configurationRanges(yaml: String, at: String, message: String) {
        #expect {
            try ModelCatalog.parse(yaml, path: "m.yaml")
        } throws: { error in
            guard let e = (error as? LocatedErrors)?.errors.first else { return false }
            return "\(e.line):\(e.column)" == at && e.message.contains(message) && e.file == "m.yaml" && !e.message.contains("\r")
        }
    }

    @Test("a script file that is not a regular file is refused without reading it")
    func scriptNotRegular() {
        #expect(throws: ModelError.self) { try ScriptedModel.load(path: "/dev/zero") }
    }
}

@Suite("Numbers a server sends")
struct ServerNumberTests {
    @Test("token counts and error codes too large for an integer are dropped, not a crash", arguments: ["openai", "anthropic"])
    func hugeNumbers(provider: String) async throws {
        let server = try await MisbehavingServer { _, _ in
            provider == "openai"
                ? [.head(200), SSE.delta("ok"), SSE.finishStop,
                   SSE.data(#"{"choices":[],"usage":{"prompt_tokens":1e300,"completion_tokens":-1e300}}"#), SSE.done, .end]
                : [.head(200),
                   SSE.event("message_start", #"{"type":"message_start","message":{"model":"c","usage":{"input_tokens":1e300}}}"#),
                   SSE.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}"#),
                   SSE.event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1e300}}"#),
                   SSE.event("message_stop", #"{"type":"message_stop"}"#), .end]
        }
        let model = EndpointSafetyTests().model(provider, port: server.port)
        let r = await ReplyRecorder.collect(model.stream(ModelFaultTests.question))
        #expect(r.text == "ok" && r.status == .complete)
        #expect(r.usage?.promptTokens == nil && r.usage?.completionTokens == nil)
        await server.shutdown()
    }

    @Test("an error code too large for an integer is shown as it came")
    func hugeErrorCode() {
        #expect(OpenAIErrorBody.message(#"{"error":{"message":"no","code":1e300}}"#).hasPrefix("no"))
    }

    @Test("seconds of any size are written without a crash")
    func formatSeconds() {
        #expect(ModelError.format(2) == "2")
        #expect(ModelError.format(0.5) == "0.5")
        #expect(!ModelError.format(.infinity).isEmpty)
        #expect(!ModelError.format(1e300).isEmpty)
    }
}
