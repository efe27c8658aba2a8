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
    public var untagged: Int
    public var reviews: Int
    public var ended: Bool
    public var problems: [String]

    public static func of(store: TranscriptStore, sessionId: String) -> SessionSummary {
        let path = store.sessionFile(sessionId)
        let reviewsDir = (store.sessionFolder(sessionId) as NSString).appendingPathComponent(TranscriptStore.reviewsFolderName)
        let reviews = ((try? FileManager.default.contentsOfDirectory(atPath: reviewsDir)) ?? []).filter { $0.hasSuffix(".jsonl") }.count
        do {
            let s = try SessionSnapshot.load(path: path)
            return SessionSummary(sessionId: sessionId, scenario: s.header.scenario.id, condition: s.header.scenario.condition.rawValue,
                                  model: "\(s.header.model.provider):\(s.header.model.name)", annotator: s.header.annotator,
                                  questions: s.questions, replies: s.modelMessages.count, untagged: s.untagged.count,
                                  reviews: reviews, ended: s.ended, problems: s.problems.filter(\.isError).map(\.description))
        } catch {
            return SessionSummary(sessionId: sessionId, scenario: "?", condition: "?", model: "?", annotator: "?", questions: 0,
                                  replies: 0, untagged: 0, reviews: reviews, ended: false, problems: ["\(error)"])
        }
    }
}
