import Annotate
import Foundation

/// A session as it stands on disk: its header, the conversation, and the latest annotation of
/// each model message by one rater. Used to resume a session and to list sessions.
public struct SessionSnapshot: Sendable {
    public var path: String
    public var header: SessionHeader
    public var messages: [MessageEvent]
    /// The latest annotation of each model message (by message index) by `rater`.
    public var annotations: [Int: AnnotationEvent]
    public var ended: Bool
    public var problems: [TranscriptProblem]

    public static func load(path: String, rater: String? = nil) throws(TranscriptError) -> SessionSnapshot {
        let read = try TranscriptReader.read(path: path)
        guard let header = read.header else {
            let why = read.problems.first.map { ": \($0)" } ?? ""
            throw .invalid("\(path) does not start with a session header\(why)")
        }
        let rater = rater ?? header.annotator
        var messages: [MessageEvent] = []
        var annotations: [Int: AnnotationEvent] = [:]
        var ended = false
        for event in read.events {
            switch event.body {
            case .message(let m): messages.append(m)
            case .annotation(let a) where a.rater == rater: annotations[a.messageIndex] = a
            case .sessionEnd: ended = true
            case .resumed: ended = false
            default: break
            }
        }
        return SessionSnapshot(path: path, header: header, messages: messages, annotations: annotations, ended: ended, problems: read.problems)
    }

    public var modelMessages: [MessageEvent] { messages.filter { $0.role == .model } }
    public var questions: Int { messages.filter { $0.role == .interrogator }.count }

    /// Model messages without a label by the rater (a failed reply with no text has nothing to tag).
    public var untagged: [Int] {
        modelMessages.filter(\.isRatable).map(\.index)
            .filter { annotations[$0].map { $0.labels.isEmpty } ?? true }
    }
}

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
