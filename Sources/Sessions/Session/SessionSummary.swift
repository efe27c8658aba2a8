import Foundation

/// One line of `interrogate sessions`.
public struct SessionSummary: Sendable, Encodable {
    public var sessionId: String
    public var scenario: String
    public var condition: String
    public var model: String
    public var annotator: String
    public var questions: Int
    public var replies: Int
    /// Replies the interrogator has not tagged live.
    public var untagged: Int
    /// Reviewers with a review file that reads.
    public var reviews: Int
    public var ended: Bool
    public var problems: [String]

    public static func of(store: TranscriptStore, sessionId: String) -> SessionSummary {
        do {
            let s = try Session.load(folder: store.sessionFolder(sessionId))
            return SessionSummary(sessionId: sessionId, scenario: s.header.scenario.id, condition: s.header.scenario.condition.rawValue,
                                  model: "\(s.header.model.provider):\(s.header.model.name)", annotator: s.header.annotator,
                                  questions: s.questions, replies: s.modelMessages.count,
                                  untagged: s.untagged(by: s.header.annotator, from: .live).count,
                                  reviews: s.reviewers.count, ended: s.ended, problems: s.errors.map(\.description))
        } catch {
            return SessionSummary(sessionId: sessionId, scenario: "?", condition: "?", model: "?", annotator: "?", questions: 0,
                                  replies: 0, untagged: 0, reviews: 0, ended: false, problems: ["\(error)"])
        }
    }
}
