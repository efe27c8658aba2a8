import AsyncHTTPClient
import Foundation
import NIOCore

/// Chat completions over HTTP with server-sent events: OpenAI, vLLM, llama.cpp's server,
/// Ollama, LM Studio, OpenRouter.
public struct OpenAICompatibleModel: ChatModel {
    public let description: ModelDescription
    private let url: String
    private let apiKey: String?
    private let streamer: SSEStreamer
    /// Set: the conversation is sent to `/completions` as a written transcript with these
    /// speakers (a base model); nil: to `/chat/completions` as messages.
    private let dialogue: Scenario.Speakers?

    /// - Parameters:
    ///   - baseURL: up to and including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
    ///   - apiKey: sent as a bearer token; never written to transcripts or logs.
    public init(baseURL: String, model: String, apiKey: String?, parameters: ModelParameters,
                options: EndpointOptions = .init(), provider: String = "openai", dialogue: Scenario.Speakers? = nil) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        // What is recorded and shown never carries user info or a query (`EndpointURL`).
        description = ModelDescription(provider: provider, name: model, baseURL: EndpointURL.redacted(base), parameters: parameters,
                                       promptFormat: dialogue.map(DialoguePrompt.format))
        url = base + (dialogue == nil ? "/chat/completions" : "/completions")
        self.apiKey = apiKey
        self.dialogue = dialogue
        streamer = SSEStreamer(url: EndpointURL.redacted(url), options: options, errorMessage: OpenAIErrorBody.message)
    }

    public func stream(_ request: ChatRequest) -> AsyncStream<ChatEvent> {
        let body: Data
        if let raw = request.prompt, dialogue != nil {
            body = RequestBody.completion(model: description.name, parameters: description.parameters, prompt: raw, stop: [],
                                          grammar: request.grammar)
        } else if let dialogue {
            let (prompt, stop) = DialoguePrompt.render(request, speakers: dialogue)
            body = RequestBody.completion(model: description.name, parameters: description.parameters, prompt: prompt, stop: stop)
        } else {
            body = RequestBody(model: description.name, parameters: description.parameters, messages: request.messages).encoded
        }
        let url = url
        let auth = apiKey.flatMap { $0.isEmpty ? nil : [("authorization", "Bearer \($0)")] } ?? []
        return streamer.stream({ () throws(ModelError) -> HTTPClientRequest in
            HTTPClientRequestBuilder.streamingPost(url, json: body, headers: auth)
        }, reader: OpenAIStreamReader())
    }

    /// The JSON body of a chat completion request.
    struct RequestBody: Sendable {
        var model: String
        var parameters: ModelParameters
        var messages: [ChatMessage]

        var encoded: Data {
            var o: [String: Any] = [
                "model": model,
                "stream": true,
                "stream_options": ["include_usage": true],
                "messages": messages.map { ["role": $0.role.rawValue, "content": $0.content] },
            ]
            let p = parameters
            if let v = p.temperature { o["temperature"] = v }
            if let v = p.topP { o["top_p"] = v }
            if let v = p.maxTokens { o["max_tokens"] = v }
            if let v = p.seed { o["seed"] = v }
            if let v = p.stop, !v.isEmpty { o["stop"] = v }
            if let v = p.logprobs { o["logprobs"] = v }
            if let v = p.topLogprobs, p.logprobs == true { o["top_logprobs"] = v }
            return (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
        }

        /// A text completion: the prompt, and the stops of the written transcript before any of
        /// the parameters' own. Logprobs are asked as the completion API does, by their number.
        static func completion(model: String, parameters p: ModelParameters, prompt: String, stop: [String], grammar: String? = nil) -> Data {
            var o: [String: Any] = ["model": model, "stream": true, "prompt": prompt, "stop": stop + (p.stop ?? [])]
            if let grammar { o["grammar"] = grammar }
            if let v = p.temperature { o["temperature"] = v }
            if let v = p.topP { o["top_p"] = v }
            if let v = p.maxTokens { o["max_tokens"] = v }
            if let v = p.seed { o["seed"] = v }
            if p.logprobs == true { o["logprobs"] = max(1, p.topLogprobs ?? 1) }
            return (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
        }
    }
}

/// Error bodies come as `{"error": {"message": …}}`, `{"error": "…"}` or the flat
/// `{"object": "error", "message": …}` of vLLM; anything else is shown as it came.
enum OpenAIErrorBody {
    static func message(_ body: String) -> String {
        guard let json = try? JSONValue.parse(Data(body.utf8)) else {
            return body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500).description
        }
        return message(json) ?? body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500).description
    }

    /// The message of an error object, or nil when `json` is not one.
    static func message(_ json: JSONValue) -> String? {
        if let err = json["error"] {
            if let s = err.string { return s }
            let m = err["message"]?.string ?? err.jsonText
            let kind = err["type"]?.string ?? err["code"].flatMap { $0.string ?? $0.wholeNumber.map(String.init) ?? $0.jsonText }
            return kind.map { "\(m) (\($0))" } ?? m
        }
        if json["object"]?.string == "error" {
            let m = json["message"]?.string ?? json.jsonText
            return json["type"]?.string.map { "\(m) (\($0))" } ?? m
        }
        return nil
    }
}

struct OpenAIStreamReader: StreamReader {
    private(set) var finishReason: String?
    private var reportedModel = false

    mutating func read(_ event: ServerSentEvent) throws(ModelError) -> (events: [ChatEvent], done: Bool) {
        let data = event.data.trimmingCharacters(in: .whitespaces)
        if data == "[DONE]" { return ([.finished(reason: finishReason)], true) }
        if event.event == "error" { throw .server(message: OpenAIErrorBody.message(data)) }
        guard let json = try? JSONValue.parse(Data(data.utf8)) else {
            throw .malformed("a chunk is not JSON: \(data.prefix(120))")
        }
        if let message = OpenAIErrorBody.message(json) { throw .server(message: message) }
        var out: [ChatEvent] = []
        if !reportedModel, let model = json["model"]?.string, !model.isEmpty {
            reportedModel = true
            out.append(.model(model))
        }
        // The usage chunk comes last, with empty or null choices.
        if let usage = json["usage"], case .object = usage {
            out.append(.usage(promptTokens: usage["prompt_tokens"]?.wholeNumber,
                              completionTokens: usage["completion_tokens"]?.wholeNumber))
        }
        if case .array(let choices)? = json["choices"], let choice = choices.first {
            let delta = choice["delta"]
            if let r = delta?["reasoning_content"]?.string ?? delta?["reasoning"]?.string, !r.isEmpty { out.append(.reasoning(r)) }
            if let t = delta?["content"]?.string, !t.isEmpty { out.append(.text(t)) }
            // A text completion's chunk carries `text`, and its logprobs as parallel lists.
            if let t = choice["text"]?.string, !t.isEmpty { out.append(.text(t)) }
            if case .array(let tokens)? = choice["logprobs"]?["content"], !tokens.isEmpty {
                out.append(.logprobs(tokens.map(Self.logprob)))
            } else if case .array(let tokens)? = choice["logprobs"]?["tokens"], !tokens.isEmpty {
                out.append(.logprobs(Self.completionLogprobs(tokens, choice["logprobs"]!)))
            }
            if let reason = choice["finish_reason"]?.string { finishReason = reason }
        } else if json["choices"] == nil && json["usage"] == nil {
            throw .malformed("a chunk has neither choices nor usage: \(data.prefix(120))")
        }
        return (out, false)
    }

    private static func completionLogprobs(_ tokens: [JSONValue], _ l: JSONValue) -> [TokenLogprob] {
        let values: [JSONValue] = if case .array(let v)? = l["token_logprobs"] { v } else { [] }
        let tops: [JSONValue] = if case .array(let v)? = l["top_logprobs"] { v } else { [] }
        return tokens.indices.map { i in
            var top: [TokenLogprob.Alternative] = []
            if i < tops.count, case .object(let alts) = tops[i] {
                top = alts.map { .init(token: $0.key, logprob: $0.value.number ?? .nan) }.sorted { $0.logprob > $1.logprob }
            }
            // A missing log-probability is not certainty: NaN, which the sidecar writes as null.
            return TokenLogprob(token: tokens[i].string ?? "", logprob: i < values.count ? values[i].number ?? .nan : .nan, top: top)
        }
    }

    private static func logprob(_ t: JSONValue) -> TokenLogprob {
        let top: [TokenLogprob.Alternative] = if case .array(let alts)? = t["top_logprobs"] {
            alts.map { .init(token: $0["token"]?.string ?? "", logprob: $0["logprob"]?.number ?? .nan) }
        } else { [] }
        return TokenLogprob(token: t["token"]?.string ?? "", logprob: t["logprob"]?.number ?? .nan, top: top)
    }
}

extension JSONValue {
    /// A whole number that fits an Int exactly (token counts, error codes); nil for anything
    /// else, so a server sending 1e300 cannot crash the app.
    var wholeNumber: Int? {
        if case .int(let i) = self { return Int(exactly: i) }
        guard let d = number, d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }
}
