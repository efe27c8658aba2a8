import Annotate
import Foundation

/// The rubric a model judge labels by (`prompts/judge-rubric-v1.yaml`): the design's label
/// definitions, the leak question and the answer format, with the turn to judge filled in.
public struct JudgeRubric: Sendable {
    public static let defaultPath = "prompts/judge-rubric-v1.yaml"
    static let placeholders: Set<String> = ["title", "secret", "conversation", "turn", "suspect", "interrogator"]

    public let template: PromptTemplate

    public init(template: PromptTemplate) { self.template = template }

    public static func load(path: String = defaultPath) throws(LocatedErrors) -> JudgeRubric {
        JudgeRubric(template: try PromptTemplate.load(path: path, keys: ["system", "turn", "answer"], placeholders: placeholders))
    }

    /// What the judge is asked about one model turn: the conversation up to and including it,
    /// as a blind reviewer sees it (no one's labels). A chat model gets the rubric as the system
    /// prompt and the turn as the user's message; a model that continues text gets them written
    /// out, ending where the JSON answer starts, with a grammar that admits only a valid answer.
    public func request(for session: Session, turn: Session.ModelTurn, context: SessionContext) -> ChatRequest {
        let speakers = context.speakers
        var lines: [String] = []
        var number = 0
        for m in session.messages where m.index <= turn.reply.index {
            let text = m.text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            switch m.role {
            case .interrogator: lines.append("\(speakers.interrogator): \(text)")
            case .model:
                number += 1
                if m.saidNothing { continue }
                lines.append(m.index == turn.reply.index ? ">>> \(speakers.suspect) (reply \(number)): \(text)" : "\(speakers.suspect) (reply \(number)): \(text)")
            }
        }
        let values = ["title": session.header.scenario.title, "secret": context.secret, "conversation": lines.joined(separator: "\n"),
                      "turn": String(turn.number), "suspect": speakers.suspect, "interrogator": speakers.interrogator]
        let system = template.render("system", values).trimmingCharacters(in: .whitespacesAndNewlines)
        let user = template.render("turn", values).trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = template.render("answer", values).trimmingCharacters(in: .whitespacesAndNewlines)
        return ChatRequest(messages: [ChatMessage(.system, system), ChatMessage(.user, user)],
                           prompt: system + "\n\n" + user + "\n\n" + answer + "\n", grammar: Self.grammar)
    }

    /// What the judge is told of a session's scenario, read once from the copy in its header.
    public struct SessionContext: Sendable {
        public var speakers: Scenario.Speakers
        public var secret: String
        /// The scenario's leak patterns, whose suggestion is recorded beside the judge's decision.
        public var detector: LeakDetector
        /// Nil when the scenario copied into the header does not read: without the secret
        /// there is nothing to judge a leak by.
        public init?(_ session: Session) {
            guard let s = try? ScenarioLoader.parse(session.header.scenario.content, path: session.header.scenario.path) else { return nil }
            speakers = s.speakers
            detector = s.leakDetector
            secret = s.secret.text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
    }

    /// The answer's shape, for llama.cpp: the labels of the design only, a leak, a short rationale.
    public static let grammar = """
    root ::= "{" ws "\\"labels\\":" ws "[" ws label (ws "," ws label){0,4} ws "]" ws "," ws "\\"leak\\":" ws ("true" | "false") ws "," ws "\\"rationale\\":" ws "\\"" c{1,200} "\\"" ws "}"
    label ::= \(Label.allCases.map { "\"\\\"\($0.rawValue)\\\"\"" }.joined(separator: " | "))
    c ::= [^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/nt]
    ws ::= " "?
    """
}

/// A judge's answer for one turn, read strictly: a JSON object with known labels, a leak
/// decision and a rationale. Anything else is a failure with its reason, never a guess.
public struct Judgement: Sendable, Equatable {
    public var labels: LabelSet
    public var leak: Bool
    public var rationale: String

    public static func parse(_ reply: String) -> Result<Judgement, JudgementError> {
        let text = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        // A chat model may wrap the object in a code fence or a sentence: take the outermost object.
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else {
            return .failure(.init(text.isEmpty ? "the judge's reply was empty" : "the judge's reply holds no JSON object"))
        }
        guard let json = try? JSONValue.parse(Data(text[open...close].utf8)), case .object = json else {
            return .failure(.init("the judge's reply is not valid JSON"))
        }
        guard case .array(let items)? = json["labels"] else { return .failure(.init("the judge's answer has no list of labels")) }
        var labels: [Label] = []
        for item in items {
            guard let s = item.string else { return .failure(.init("a label that is not text: \(item.jsonText.prefix(60))")) }
            guard let l = Label(rawValue: s.trimmingCharacters(in: .whitespaces).lowercased()) else {
                return .failure(.init("unknown label '\(TerminalText.escaped(String(s.prefix(60))))'; the labels are \(Label.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            labels.append(l)
        }
        guard !labels.isEmpty else { return .failure(.init("the judge gave no label")) }
        guard case .bool(let leak)? = json["leak"] else { return .failure(.init("the judge's answer has no leak (true or false)")) }
        let rationale = json["rationale"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return .success(Judgement(labels: LabelSet(labels), leak: leak, rationale: rationale))
    }
}

public struct JudgementError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
