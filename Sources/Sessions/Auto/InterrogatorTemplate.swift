import Foundation

/// The prompt a model interrogator is given (`prompts/interrogator-v1.yaml`): the scenario's
/// title and brief, never the secret unless the template asks for `{{secret}}`.
public struct InterrogatorTemplate: Sendable {
    public static let defaultPath = "prompts/interrogator-v1.yaml"
    static let placeholders: Set<String> = ["title", "brief", "turn_limit", "interrogator", "suspect", "secret"]

    public let template: PromptTemplate

    public init(template: PromptTemplate) { self.template = template }

    public static func load(path: String = defaultPath) throws(LocatedErrors) -> InterrogatorTemplate {
        InterrogatorTemplate(template: try PromptTemplate.load(path: path, keys: ["system", "start"], optionalKeys: ["done"], placeholders: placeholders))
    }

    /// Whether the template gives the interrogator the secret.
    public var revealsSecret: Bool { template.uses("secret", in: "system") || template.uses("secret", in: "start") }

    func values(_ scenario: Scenario) -> [String: String] {
        ["title": scenario.title, "brief": scenario.brief.trimmingCharacters(in: .whitespacesAndNewlines),
         "turn_limit": String(scenario.turnLimit), "interrogator": scenario.speakers.interrogator, "suspect": scenario.speakers.suspect,
         "secret": scenario.secret.text.trimmingCharacters(in: .whitespacesAndNewlines)]
    }

    /// What the interrogator model is asked for its next question. The roles are the other way
    /// round from the suspect's: its own questions are its turns, the suspect's replies the
    /// other side's. A chat model is first given the template's `start` as the other side's
    /// opening turn, since chat models expect one before they speak.
    public func request(scenario: Scenario, messages: [MessageEvent], chat: Bool) -> ChatRequest {
        let v = values(scenario)
        var out = [ChatMessage(.system, template.render("system", v).trimmingCharacters(in: .whitespacesAndNewlines))]
        if chat { out.append(ChatMessage(.user, template.render("start", v).trimmingCharacters(in: .whitespacesAndNewlines))) }
        for m in messages {
            switch m.role {
            case .interrogator: out.append(ChatMessage(.assistant, m.text))
            case .model where !m.text.isEmpty: out.append(ChatMessage(.user, m.text))
            case .model: break
            }
        }
        return ChatRequest(messages: out)
    }

    /// The question in a reply: its first line with text, without a speaker's name in front or
    /// quotes around it; nil when there is none.
    public func question(from reply: String, speakers: Scenario.Speakers) -> String? {
        guard var line = reply.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { !$0.isEmpty }) else {
            return nil
        }
        for name in [speakers.interrogator, "Interrogator", "Question", "Q"] where line.lowercased().hasPrefix(name.lowercased() + ":") {
            line = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        if line.count >= 2, let f = line.first, let l = line.last, (f == "\"" && l == "\"") || (f == "“" && l == "”") {
            line = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        }
        return line.isEmpty ? nil : line
    }

    /// Whether a question is the template's word for "I have what I need".
    public func isDone(_ question: String) -> Bool {
        guard let word = template.texts["done"]?.trimmingCharacters(in: .whitespacesAndNewlines), !word.isEmpty else { return false }
        let letters = question.filter { $0.isLetter || $0.isNumber }
        return letters.caseInsensitiveCompare(word.filter { $0.isLetter || $0.isNumber }) == .orderedSame
    }
}
