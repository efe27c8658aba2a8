import Foundation

/// The messages a model is sent: the scenario's system prompt, then the conversation so far.
public enum Prompting {
    public static func request(systemPrompt: String, messages: [MessageEvent]) -> ChatRequest {
        var out = [ChatMessage(.system, systemPrompt)]
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
