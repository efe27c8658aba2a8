import Foundation

/// The messages a model is sent: the scenario's system prompt, then the conversation so far.
public enum Prompting {
    public static func request(systemPrompt: String, messages: [MessageEvent]) -> ChatRequest {
        withSystemPrompt(systemPrompt, conversation(messages))
    }

    /// The request with the system prompt in front.
    public static func withSystemPrompt(_ systemPrompt: String, _ request: ChatRequest) -> ChatRequest {
        var r = request
        r.messages.insert(ChatMessage(.system, systemPrompt), at: 0)
        return r
    }

    /// The conversation alone: what the screen's state holds and may build a request from.
    public static func conversation(_ messages: [MessageEvent]) -> ChatRequest {
        var out: [ChatMessage] = []
        for m in messages {
            switch m.role {
            case .interrogator: out.append(.init(.user, m.text))
            // A reply cut short still happened: the model said what it said. A failed reply
            // with no text said nothing.
            case .model where !m.text.isEmpty: out.append(.init(.assistant, m.text))
            case .model: break
            }
        }
        return ChatRequest(messages: out)
    }
}
