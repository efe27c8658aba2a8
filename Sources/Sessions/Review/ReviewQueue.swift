import Foundation

/// The sessions a reviewer can review next: never one they tagged live or adjudicated (they
/// have seen its labels), not those they have finished, fewest reviews first so that coverage
/// grows evenly.
public enum ReviewQueue {
    public struct Entry: Sendable, Equatable, Encodable {
        public var sessionId: String
        public var scenario: String
        /// Model turns to rate.
        public var replies: Int
        /// Reviewers other than this rater who have started a review.
        public var reviews: Int
        /// Turns this rater has already reviewed (a partial review resumes after them).
        public var reviewedByYou: Int
    }

    public static func entries(store: TranscriptStore, rater: String) -> (entries: [Entry], problems: [String]) {
        var entries: [Entry] = []
        var problems: [String] = []
        for id in store.sessionIds() {
            let ratings: Session
            do { ratings = try Session.load(folder: store.sessionFolder(id)) } catch {
                problems.append("\(id): \(error.description)")
                continue
            }
            if ratings.hasSeenLabels(rater) { continue }
            let replies = ratings.ratableTurns.count
            let mine = ratings.labelled(by: rater)
            guard replies > 0, mine < replies else { continue }
            // People's reviews: a model judge's file is no person's review.
            let others = ratings.reviewers.keys.filter { $0 != rater && !TranscriptStore.isJudge($0) }.count
            entries.append(.init(sessionId: id, scenario: ratings.header.scenario.id, replies: replies, reviews: others, reviewedByYou: mine))
        }
        entries.sort { ($0.reviews, $0.sessionId) < ($1.reviews, $1.sessionId) }
        return (entries, problems)
    }
}
