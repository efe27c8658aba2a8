import AsyncHTTPClient
import Foundation
import NIOCore

/// Anthropic's Messages API with streaming events.
public struct AnthropicModel: ChatModel {
    public static let apiVersion = "2023-06-01"
    public static let defaultBaseURL = "https://api.anthropic.com"
    /// The Messages API requires max_tokens; this is used when the model entry sets none.
    public static let defaultMaxTokens = 1024

    public let description: ModelDescription
    private let url: String
    private let apiKey: String
    private let streamer: SSEStreamer

    public init(baseURL: String = AnthropicModel.defaultBaseURL, model: String, apiKey: String,
                parameters: ModelParameters, options: EndpointOptions = .init()) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        // The API has no seed and no logprobs: record only what is sent.
        var sent = parameters
        sent.seed = nil
        sent.logprobs = nil
        sent.topLogprobs = nil
        sent.maxTokens = parameters.maxTokens ?? Self.defaultMaxTokens
        // What is recorded and shown never carries user info or a query (`EndpointURL`).
        description = ModelDescription(provider: "anthropic", name: model, baseURL: EndpointURL.redacted(base), parameters: sent)
        url = base + "/v1/messages"
        self.apiKey = apiKey
        streamer = SSEStreamer(url: EndpointURL.redacted(url), options: options, errorMessage: OpenAIErrorBody.message)
    }

    public func stream(_ request: ChatRequest) -> AsyncStream<ChatEvent> {
        let body = requestBody(request)
        let (url, apiKey) = (url, apiKey)
        return streamer.stream({ () throws(ModelError) -> HTTPClientRequest in
            HTTPClientRequestBuilder.streamingPost(url, json: body, headers: [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion)])
        }, reader: AnthropicStreamReader())
    }

    func requestBody(_ request: ChatRequest) -> Data {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        var o: [String: Any] = [
            "model": description.name,
            "stream": true,
            "max_tokens": description.parameters.maxTokens ?? Self.defaultMaxTokens,
            "messages": request.messages.filter { $0.role != .system }.map { ["role": $0.role.rawValue, "content": $0.content] },
        ]
        if !system.isEmpty { o["system"] = system }
        let p = description.parameters
        if let v = p.temperature { o["temperature"] = v }
        if let v = p.topP { o["top_p"] = v }
        if let v = p.stop, !v.isEmpty { o["stop_sequences"] = v }
        return (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
    }
}

struct AnthropicStreamReader: StreamReader {
    private(set) var finishReason: String?
    private var promptTokens: Int?

    mutating func read(_ event: ServerSentEvent) throws(ModelError) -> (events: [ChatEvent], done: Bool) {
        guard let json = try? JSONValue.parse(Data(event.data.utf8)) else {
            throw .malformed("an event is not JSON: \(event.data.prefix(120))")
        }
        let type = json["type"]?.string ?? event.event
        switch type {
        case "message_start":
            let message = json["message"]
            promptTokens = message?["usage"]?["input_tokens"]?.wholeNumber
            return (message?["model"]?.string.map { [.model($0)] } ?? [], false)
        case "content_block_start":
            // A block may start with text already in it.
            if let t = json["content_block"]?["text"]?.string, !t.isEmpty { return ([.text(t)], false) }
            return ([], false)
        case "content_block_delta":
            let delta = json["delta"]
            switch delta?["type"]?.string {
            case "text_delta": return (delta?["text"]?.string.map { [.text($0)] } ?? [], false)
            case "thinking_delta": return (delta?["thinking"]?.string.map { [.reasoning($0)] } ?? [], false)
            default: return ([], false)
            }
        case "message_delta":
            if let reason = json["delta"]?["stop_reason"]?.string { finishReason = reason }
            let output = json["usage"]?["output_tokens"]?.wholeNumber
            return (output == nil ? [] : [.usage(promptTokens: promptTokens, completionTokens: output)], false)
        case "message_stop":
            return ([.finished(reason: finishReason)], true)
        case "error":
            throw .server(message: OpenAIErrorBody.message(json) ?? event.data)
        default:
            return ([], false) // ping, content_block_stop and types added later
        }
    }
}
