import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The OpenAI-compatible and Anthropic clients against a server that misbehaves in every
/// way a real one can. Each fault must end in a typed error a person can act on, and the
/// text received before it must be kept.
@Suite("Model clients against a misbehaving server")
struct ModelFaultTests {
    static let question = ChatRequest(messages: [.init(.system, "Keep the code secret."), .init(.user, "What is the code?")])

    /// Short retry delays; timeouts long enough that only the timeout tests (which set their
    /// own) ever meet one, however busy the machine is: on 2 cores, other suites' synchronous
    /// work has held the test pool for over 20 s, and then a reply's events wait unread while the
    /// watch (on its own timer) counts the wait as a stall.
    static func fastOptions() -> EndpointOptions {
        var o = EndpointOptions()
        o.connectTimeout = 10
        o.firstByteTimeout = 120
        o.idleTimeout = 120
        o.retryBaseDelay = 0.05
        o.maxRetries = 2
        return o
    }

    /// Runs one request against a server answering with `steps` and returns what was recorded.
    func reply(_ script: @escaping MisbehavingServer.Script, options: EndpointOptions = fastOptions(),
               check: (MisbehavingServer) -> Void = { _ in }) async throws -> (ReplyRecorder, [ChatEvent]) {
        let server = try await MisbehavingServer(script: script)
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m", apiKey: "sk-test", parameters: .init(), options: options)
        var events: [ChatEvent] = []
        let recorder = await ReplyRecorder.collect(model.stream(Self.question)) { events.append($0) }
        check(server)
        await server.shutdown()
        return (recorder, events)
    }

    @Test("a well-formed stream arrives in pieces with model name, usage and finish reason")
    func happyPath() async throws {
        let (r, events) = try await reply { _, _ in SSE.okStream(["I can", "'t say", "."]) }
        #expect(r.status == .complete)
        #expect(r.text == "I can't say.")
        #expect(r.textDeltas == 3)
        #expect(r.modelReported == "misbehaving-1")
        #expect(r.usage == .init(promptTokens: 11, completionTokens: 3))
        #expect(r.finishReason == "stop")
        #expect(events.last == .finished(reason: "stop"))
        #expect(r.firstTokenMs != nil && r.totalMs != nil)
    }

    @Test("the request carries the messages, the parameters and the key as a bearer token")
    func requestShape() async throws {
        let server = try await MisbehavingServer { _, _ in SSE.okStream(["ok"]) }
        let params = ModelParameters(temperature: 0, topP: 0.9, maxTokens: 50, seed: 7, stop: ["END"], logprobs: true, topLogprobs: 2)
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m1", apiKey: "sk-abc", parameters: params, options: Self.fastOptions())
        _ = await ReplyRecorder.collect(model.stream(Self.question))
        let req = try #require(server.requests.first)
        #expect(req.path == "/t/v1/chat/completions")
        #expect(req.headers.contains { $0.0.lowercased() == "authorization" && $0.1 == "Bearer sk-abc" })
        let body = try JSONValue.parse(Data(req.body.utf8))
        #expect(body["model"]?.string == "m1")
        #expect(body["stream"] == .bool(true))
        #expect(body["seed"] == .int(7))
        #expect(body["temperature"]?.number == 0)
        #expect(body["top_logprobs"] == .int(2))
        #expect(body["stop"] == .array([.string("END")]))
        #expect(body["messages"] == .array([
            .object(["role": .string("system"), "content": .string("Keep the code secret.")]),
            .object(["role": .string("user"), "content": .string("What is the code?")]),
        ]))
        await server.shutdown()
    }

    /// A server that keeps a connection alive after a reply and closes it when the next request
    /// arrives on it (llama.cpp's server closes idle connections after a few seconds, and a
    /// request can meet that close): the request is sent again on a fresh connection.
    static func closesKeptAliveConnection(_ ok: [MisbehavingServer.Step]) -> MisbehavingServer.Script {
        { _, n in
            switch n {
            case 0: [.head(200, [("content-type", "text/event-stream"), ("connection", "keep-alive")])] + ok.dropFirst().dropLast() + [.endKeepingConnection]
            case 1: [.closeWithoutAnswer]
            default: ok
            }
        }
    }

    @Test("a reply asked on a kept-alive connection the server closes under it still arrives: sent again at once, and counted as a retry")
    func keptAliveConnectionClosed() async throws {
        let server = try await MisbehavingServer(script: Self.closesKeptAliveConnection(SSE.okStream(["fine"])))
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m", apiKey: nil, parameters: .init(), options: Self.fastOptions())
        let first = await ReplyRecorder.collect(model.stream(Self.question))
        var events: [ChatEvent] = []
        let second = await ReplyRecorder.collect(model.stream(Self.question)) { events.append($0) }
        #expect(first.status == .complete && first.text == "fine" && first.retries == 0)
        #expect(second.status == .complete, "\(String(describing: second.error))")
        #expect(second.text == "fine")
        #expect(second.retries == 1)
        #expect(events.first == .retrying(attempt: 1, afterSeconds: 0, reason: "the server closed the connection before answering"))
        #expect(server.requests.count == 3)
        await server.shutdown()
    }

    @Test("a reply asked on a kept-alive connection the server closes still arrives while a process the app started runs: the process holds none of the app's connections")
    func keptAliveConnectionClosedWhileAChildRuns() async throws {
        let server = try await MisbehavingServer(script: Self.closesKeptAliveConnection(SSE.okStream(["fine"])))
        var o = Self.fastOptions()
        // Seconds (the connect timeout and this), not the two minutes a held connection would
        // take to be given up.
        o.firstByteTimeout = 20
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m", apiKey: nil, parameters: .init(), options: o)
        let first = await ReplyRecorder.collect(model.stream(Self.question))
        try #require(first.status == .complete && first.retries == 0)
        // Started while the kept-alive connection is open (as the local model server, or another
        // session's process, may be): had it inherited the socket, the server's close would not
        // reach the app, and the next request would wait for a reply that never comes.
        let null = open("/dev/null", O_WRONLY)
        try #require(null >= 0)
        defer { close(null) }
        let child = try ChildProcess(path: "/bin/sleep", arguments: ["60"], environment: [:], stdout: null, stderr: null)
        defer { child.stop(grace: 0) }
        let second = await ReplyRecorder.collect(model.stream(Self.question))
        #expect(second.status == .complete, "\(String(describing: second.error))")
        #expect(second.text == "fine" && second.retries == 1)
        await server.shutdown()
    }

    @Test("a process the app starts holds none of its open files: only its input, output and error")
    func childHoldsNoOpenFiles() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Opened without close-on-exec, as a library may open a file or a socket.
        let file = open(dir.appendingPathComponent("held").path, O_RDWR | O_CREAT, 0o644)
        try #require(file >= 0)
        let high = fcntl(file, F_DUPFD, 100)
        close(file)
        defer { close(high) }
        try #require(high >= 100)
        let outPath = dir.appendingPathComponent("out").path
        let out = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(out >= 0)
        // The shell's own descriptors, as /dev/fd shows them on Linux and on macOS.
        let child = try ChildProcess(path: "/bin/sh", arguments: ["-c", "if [ -e /dev/fd/\(high) ]; then echo held; else echo closed; fi; [ -e /dev/fd/1 ] && echo output"],
                                     environment: [:], stdout: out, stderr: out)
        close(out)
        #expect(child.waitUntilExit() == 0)
        #expect(try String(contentsOfFile: outPath, encoding: .utf8) == "closed\noutput\n")
    }

    @Test("with max_retries 0 a request the server closed the connection under is not sent again: the person's limit holds")
    func keptAliveConnectionClosedNoRetries() async throws {
        let server = try await MisbehavingServer(script: Self.closesKeptAliveConnection(SSE.okStream(["fine"])))
        var o = Self.fastOptions()
        o.maxRetries = 0
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m", apiKey: nil, parameters: .init(), options: o)
        _ = await ReplyRecorder.collect(model.stream(Self.question))
        let second = await ReplyRecorder.collect(model.stream(Self.question))
        #expect(second.status == .error)
        #expect(second.error?.description.contains("closed the connection") == true, "\(String(describing: second.error))")
        #expect(server.requests.count == 2)
        await server.shutdown()
    }

    @Test("a server that closes every connection without answering fails with a clear error once the retries are used up")
    func closesWithoutAnswerAlways() async throws {
        let (r, _) = try await reply({ _, _ in [.closeWithoutAnswer] }) { server in #expect(server.requests.count == 3) } // the first try and maxRetries = 2
        #expect(r.status == .error)
        #expect(r.retries == 2)
        #expect(r.error?.description.contains("closed the connection") == true, "\(String(describing: r.error))")
    }

    @Test("a short request (the model list) on a kept-alive connection the server closes under it still gets its answer")
    func keptAliveConnectionClosedShortRequest() async throws {
        let list = #"{"data":[{"id":"m"}]}"#
        let server = try await MisbehavingServer { _, n in
            switch n {
            case 0: [.head(200, [("content-type", "application/json"), ("connection", "keep-alive")]), .bytes(Array(list.utf8)), .endKeepingConnection]
            case 1: [.closeWithoutAnswer]
            default: [.head(200, [("content-type", "application/json")]), .bytes(Array(list.utf8)), .end]
            }
        }
        let url = server.baseURL("t") + "/models"
        for _ in 0..<2 {
            let reply = try await HTTPClients.fetch(HTTPClientRequestBuilder.get(url, bearer: nil), url: url, options: Self.fastOptions())
            #expect(reply.status == 200 && reply.body == list)
        }
        #expect(server.requests.count == 3)
        await server.shutdown()
    }

    @Test("connection refused says so, with the address")
    func refused() async throws {
        // A port bound but not listening, held for the whole test: it refuses connections, and no
        // other test's server can take it meanwhile (a port merely found free once was taken by
        // one, which then never answered).
        let fd = socket(AF_INET, Platform.streamSocket, 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = Platform.loopbackAddress()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let model = OpenAICompatibleModel(baseURL: "http://127.0.0.1:\(port)/v1", model: "m", apiKey: nil, parameters: .init(), options: Self.fastOptions())
        let r = await ReplyRecorder.collect(model.stream(Self.question))
        guard case .cannotConnect(let url, _)? = r.error else { Issue.record("got \(String(describing: r.error))"); return }
        #expect(url.contains("127.0.0.1:\(port)"))
        #expect(r.status == .error)
        #expect(r.error!.description.contains("Is the server running"))
    }

    @Test("a connection reset mid-stream keeps the text received")
    func resetMidStream() async throws {
        let (r, _) = try await reply { _, _ in [.head(200), SSE.delta("The code is "), .pause(milliseconds: 50), .reset] }
        #expect(r.text == "The code is ")
        #expect(r.status == .error)
        guard case .connectionLost? = r.error else { Issue.record("got \(String(describing: r.error))"); return }
    }

    @Test("429 with Retry-After is retried after the time the server asked for")
    func rateLimitedThenOK() async throws {
        let (r, events) = try await reply({ _, n in
            n == 0 ? [.head(429, [("retry-after", "1"), ("content-type", "application/json")]),
                      .bytes(Array(#"{"error":{"message":"slow down","type":"rate_limit"}}"#.utf8)), .end]
                   : SSE.okStream(["fine"])
        }) { server in #expect(server.requests.count == 2) }
        #expect(events.first == .retrying(attempt: 1, afterSeconds: 1, reason: "HTTP 429: slow down (rate_limit)"))
        #expect(r.status == .complete)
        #expect(r.text == "fine")
        #expect(r.retries == 1)
    }

    @Test("500 then success: retried with backoff, and the reply completes")
    func serverErrorThenOK() async throws {
        let (r, events) = try await reply({ _, n in
            n == 0 ? [.head(500, [("content-type", "text/plain")]), .bytes(Array("boom".utf8)), .end] : SSE.okStream(["ok"])
        })
        #expect(events.contains(.retrying(attempt: 1, afterSeconds: 0.05, reason: "HTTP 500: boom")))
        #expect(r.status == .complete)
    }

    @Test("5xx that never recovers fails after the retries, naming the status")
    func serverErrorForever() async throws {
        let (r, _) = try await reply({ _, _ in [.head(503, [("content-type", "application/json")]),
                                               .bytes(Array(#"{"object":"error","message":"model is loading","type":"ServiceUnavailable"}"#.utf8)), .end] }) { server in
            #expect(server.requests.count == 3) // the first try and maxRetries = 2
        }
        #expect(r.error == .http(status: 503, message: "model is loading (ServiceUnavailable)"))
        #expect(r.error!.description.contains("retries were used up"))
    }

    @Test("a 401 is not retried and tells the person to check the key")
    func unauthorized() async throws {
        let (r, _) = try await reply({ _, _ in [.head(401, [("content-type", "application/json")]),
                                               .bytes(Array(#"{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"#.utf8)), .end] }) { server in
            #expect(server.requests.count == 1)
        }
        #expect(r.error == .http(status: 401, message: "Incorrect API key provided (invalid_api_key)"))
        #expect(r.error!.description.contains("API key"))
    }

    @Test("a chunk that is not JSON stops the reply with a clear error; earlier text stays")
    func malformedChunk() async throws {
        let (r, _) = try await reply { _, _ in [.head(200), SSE.delta("Hel"), SSE.data("{not json"), .end] }
        #expect(r.text == "Hel")
        guard case .malformed(let m)? = r.error else { Issue.record("got \(String(describing: r.error))"); return }
        #expect(m.contains("not JSON"))
    }

    @Test("an error object sent mid-stream with HTTP 200 is reported, in both shapes", arguments: [
        (#"{"error":{"message":"the model crashed","type":"server_error"}}"#, "the model crashed (server_error)"),
        (#"{"object":"error","message":"context length exceeded","type":"BadRequestError","code":400}"#, "context length exceeded (BadRequestError)"),
    ])
    func errorObjectMidStream(json: String, message: String) async throws {
        let (r, _) = try await reply { _, _ in [.head(200), SSE.delta("Partial"), SSE.data(json), .end] }
        #expect(r.text == "Partial")
        #expect(r.error == .server(message: message))
    }

    @Test("a stall past the idle timeout ends the reply; the text so far is kept")
    func idleStall() async throws {
        var options = Self.fastOptions()
        options.idleTimeout = 0.5
        let (r, _) = try await reply({ _, _ in [.head(200), SSE.delta("I was "), .pause(milliseconds: 60_000), SSE.delta("late"), .end] }, options: options)
        #expect(r.text == "I was ")
        #expect(r.error == .idleTimeout(seconds: 0.5))
    }

    @Test("headers but no body within the first-byte timeout is reported as such")
    func firstByteStall() async throws {
        var options = Self.fastOptions()
        options.firstByteTimeout = 1
        let (r, _) = try await reply({ _, _ in [.head(200), .pause(milliseconds: 60_000), .end] }, options: options)
        #expect(r.text.isEmpty)
        #expect(r.error == .firstByteTimeout(seconds: 1))
    }

    @Test("a reply over the size cap is stopped at the cap")
    func overCap() async throws {
        var options = Self.fastOptions()
        options.maxReplyBytes = 100
        let (r, _) = try await reply({ _, _ in [.head(200)] + (0..<30).map { _ in SSE.delta("0123456789") } + [SSE.finishStop, SSE.done, .end] }, options: options)
        #expect(r.error == .replyTooLarge(capBytes: 100))
        #expect(r.text.utf8.count <= 100)
        #expect(r.text.utf8.count >= 90)
    }

    @Test("invalid UTF-8 stops the reply; the valid text before it is kept")
    func invalidUTF8() async throws {
        let bad: [UInt8] = Array(#"data: {"choices":[{"delta":{"content":"x"#.utf8) + [0xFF, 0xFE] + Array(#""}}]}"#.utf8) + [0x0A, 0x0A]
        let (r, _) = try await reply { _, _ in [.head(200), SSE.delta("ok "), .bytes(bad), .end] }
        #expect(r.text == "ok ")
        #expect(r.error == .invalidUTF8)
    }

    @Test("a multi-byte character split across network reads is not mistaken for bad input")
    func splitCharacter() async throws {
        let line = Array(#"data: {"choices":[{"delta":{"content":"héllo 🔐"},"finish_reason":"stop"}]}"#.utf8) + [0x0A, 0x0A]
        let cut = line.firstIndex(of: 0xF0)! + 2
        let (r, _) = try await reply { _, _ in [.head(200), .bytes(Array(line[..<cut])), .pause(milliseconds: 30), .bytes(Array(line[cut...])), SSE.done, .end] }
        #expect(r.text == "héllo 🔐")
        #expect(r.status == .complete)
    }

    @Test("no [DONE] and no finish reason is an incomplete reply; with a finish reason it is complete")
    func noDone() async throws {
        let (cut, _) = try await reply { _, _ in [.head(200), SSE.delta("half a"), .end] }
        #expect(cut.text == "half a")
        #expect(cut.error == .incomplete)
        let (whole, _) = try await reply { _, _ in [.head(200), SSE.delta("all"), SSE.finishStop, .end] }
        #expect(whole.status == .complete)
        #expect(whole.finishReason == "stop")
    }

    @Test("reasoning text is kept apart from the answer")
    func reasoningKeptApart() async throws {
        let (r, _) = try await reply { _, _ in
            [.head(200), SSE.data(#"{"choices":[{"delta":{"reasoning_content":"They want the code; I must not."}}]}"#),
             SSE.delta("I can't help with that."), SSE.finishStop, SSE.done, .end]
        }
        #expect(r.reasoning == "They want the code; I must not.")
        #expect(r.text == "I can't help with that.")
    }

    @Test("logprobs in the stream are delivered with their alternatives")
    func logprobs() async throws {
        let (r, _) = try await reply { _, _ in
            [.head(200), SSE.data(#"{"choices":[{"delta":{"content":"No"},"logprobs":{"content":[{"token":"No","logprob":-0.1,"top_logprobs":[{"token":"No","logprob":-0.1},{"token":"Yes","logprob":-2.5}]}]}}]}"#),
             SSE.finishStop, SSE.done, .end]
        }
        #expect(r.logprobs == [TokenLogprob(token: "No", logprob: -0.1, top: [.init(token: "No", logprob: -0.1), .init(token: "Yes", logprob: -2.5)])])
    }

    @Test("cancelling mid-stream closes the connection and records the partial reply as cancelled")
    func cancelMidStream() async throws {
        let server = try await MisbehavingServer { _, _ in
            [.head(200)] + (0..<200).flatMap { i in [SSE.delta("w\(i) "), .pause(milliseconds: 20)] } + [SSE.done, .end]
        }
        let model = OpenAICompatibleModel(baseURL: server.baseURL("t"), model: "m", apiKey: nil, parameters: .init(), options: Self.fastOptions())
        var recorder = ReplyRecorder()
        for await event in model.stream(Self.question) {
            recorder.apply(event)
            if recorder.textDeltas == 3 { break } // the interrogator presses Esc
        }
        recorder.cancel()
        #expect(recorder.status == .cancelled)
        #expect(recorder.text == "w0 w1 w2 ")
        #expect(recorder.message(index: 1).status == .cancelled)
        // The server sees its connection closed long before its 200 pieces are sent.
        var waited = 0
        while server.closedConnections == 0 && waited < 2_000 { try await Task.sleep(for: .milliseconds(10)); waited += 1 }
        #expect(server.closedConnections == 1)
        await server.shutdown()
    }
}

@Suite("Anthropic client against a local server")
struct AnthropicFaultTests {
    static func stream(_ texts: [String]) -> [MisbehavingServer.Step] {
        [.head(200),
         SSE.event("message_start", #"{"type":"message_start","message":{"model":"claude-test","usage":{"input_tokens":21}}}"#),
         SSE.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
         SSE.event("ping", #"{"type":"ping"}"#)]
        + texts.map { SSE.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#($0)"}}"#) }
        + [SSE.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
           SSE.event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#),
           SSE.event("message_stop", #"{"type":"message_stop"}"#), .end]
    }

    func reply(_ script: @escaping MisbehavingServer.Script, parameters: ModelParameters = .init()) async throws -> (ReplyRecorder, MisbehavingServer) {
        let server = try await MisbehavingServer(script: script)
        let model = AnthropicModel(baseURL: "http://127.0.0.1:\(server.port)", model: "claude-test", apiKey: "sk-ant-test",
                                   parameters: parameters, options: ModelFaultTests.fastOptions())
        let r = await ReplyRecorder.collect(model.stream(ModelFaultTests.question))
        await server.shutdown()
        return (r, server)
    }

    @Test("a Messages stream gives text, model, usage and stop reason; the request has the key, version and system prompt")
    func happyPath() async throws {
        let (r, server) = try await reply({ _, _ in Self.stream(["I ", "won't ", "say."]) }, parameters: .init(temperature: 0.2, seed: 9))
        #expect(r.text == "I won't say.")
        #expect(r.textDeltas == 3)
        #expect(r.modelReported == "claude-test")
        #expect(r.usage == .init(promptTokens: 21, completionTokens: 4))
        #expect(r.finishReason == "end_turn")
        let req = try #require(server.requests.first)
        #expect(req.path == "/v1/messages")
        #expect(req.headers.contains { $0.0 == "x-api-key" && $0.1 == "sk-ant-test" })
        #expect(req.headers.contains { $0.0 == "anthropic-version" && $0.1 == AnthropicModel.apiVersion })
        let body = try JSONValue.parse(Data(req.body.utf8))
        #expect(body["system"]?.string == "Keep the code secret.")
        #expect(body["messages"] == .array([.object(["role": .string("user"), "content": .string("What is the code?")])]))
        #expect(body["max_tokens"] == .int(Int64(AnthropicModel.defaultMaxTokens)))
        #expect(body["seed"] == nil)
    }

    @Test("the recorded parameters drop what the Messages API cannot honour")
    func recordedParameters() {
        let m = AnthropicModel(model: "c", apiKey: "k", parameters: .init(temperature: 0.2, seed: 9, logprobs: true))
        #expect(m.description.parameters.seed == nil)
        #expect(m.description.parameters.logprobs == nil)
        #expect(m.description.parameters.temperature == 0.2)
    }

    @Test("an error event mid-stream is reported and the text so far kept")
    func errorEvent() async throws {
        let (r, _) = try await reply { _, _ in
            Array(Self.stream(["Part"]).prefix(5)) + [SSE.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#), .end]
        }
        #expect(r.text == "Part")
        #expect(r.error == .server(message: "Overloaded (overloaded_error)"))
    }

    @Test("529 overloaded is retried, then the reply completes")
    func overloadedThenOK() async throws {
        let (r, server) = try await reply { _, n in
            n == 0 ? [.head(529, [("content-type", "application/json")]), .bytes(Array(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.utf8)), .end]
                   : Self.stream(["ok"])
        }
        #expect(r.status == .complete)
        #expect(r.retries == 1)
        #expect(server.requests.count == 2)
    }
}
