import Foundation

/// A chat model that streams its reply. Every provider (OpenAI-compatible servers, Anthropic,
/// the scripted model, the embedded local model) speaks this one protocol.
public protocol ChatModel: Sendable {
    /// Who and what answers, as recorded in the transcript header.
    var description: ModelDescription { get }

    /// Streams the reply to `request`. The stream ends with exactly one `.finished` or
    /// `.failed` event, or early when the consumer stops iterating (which cancels the request).
    func stream(_ request: ChatRequest) -> AsyncStream<ChatEvent>

    /// Makes the model ready to answer (the local model starts its server here).
    func prepare() async throws(ModelError)

    /// Releases what `prepare` started. Safe to call more than once.
    func shutdown() async
}

extension ChatModel {
    public func prepare() async throws(ModelError) {}
    public func shutdown() async {}
}

public struct ModelDescription: Sendable, Equatable {
    public var provider: String
    public var name: String
    public var baseURL: String?
    /// The parameters as they are sent: a provider drops the ones it cannot honour
    /// (Anthropic has no seed), so the transcript never claims a setting that was not used.
    public var parameters: ModelParameters
    /// How the conversation is put to the model when it is not a chat (a base model continuing
    /// a written transcript): the exact format, recorded so that the session can be reproduced.
    public var promptFormat: String?

    public init(provider: String, name: String, baseURL: String? = nil, parameters: ModelParameters, promptFormat: String? = nil) {
        self.provider = provider
        self.name = name
        self.baseURL = baseURL
        self.parameters = parameters
        self.promptFormat = promptFormat
    }

    public var record: SessionHeader.ModelRecord {
        .init(provider: provider, name: name, baseUrl: baseURL, parameters: parameters, promptFormat: promptFormat)
    }
}

public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String
    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

public struct ChatRequest: Sendable, Equatable {
    public var messages: [ChatMessage]
    /// For a model that continues text (a base model in dialogue mode): the exact text to
    /// continue, instead of the messages written out as a dialogue. Chat models use `messages`.
    public var prompt: String?
    /// A llama.cpp grammar (GBNF) the continuation must follow, for a model that continues text
    /// on a server that takes one; chat endpoints are never sent it.
    public var grammar: String?

    public init(messages: [ChatMessage], prompt: String? = nil, grammar: String? = nil) {
        self.messages = messages
        self.prompt = prompt
        self.grammar = grammar
    }

    /// How many model replies came before the one being asked for.
    public var priorReplies: Int { messages.filter { $0.role == .assistant }.count }
}

public struct TokenLogprob: Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var top: [Alternative]
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var logprob: Double
        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }
    public init(token: String, logprob: Double, top: [Alternative]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

public enum ChatEvent: Sendable, Equatable {
    /// The model name the server reports (may differ from the one asked for).
    case model(String)
    case text(String)
    /// Reasoning the server sends apart from the answer; kept out of the reply text.
    case reasoning(String)
    case logprobs([TokenLogprob])
    case usage(promptTokens: Int?, completionTokens: Int?)
    /// The server was busy or failing before any text arrived; the request will be sent again.
    case retrying(attempt: Int, afterSeconds: Double, reason: String)
    /// The reply is complete.
    case finished(reason: String?)
    /// The reply failed; text already received stays valid.
    case failed(ModelError)
}
