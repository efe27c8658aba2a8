import Annotate
import Foundation

/// The first event of a reviewer's file (`reviews/<rater>.jsonl`) or an adjudicator's file
/// (`adjudications/<rater>.jsonl`): whose file it is, for which session, and how it was made.
public struct ReviewHeader: Sendable, Equatable, Codable {
    public enum Purpose: String, Sendable, Codable {
        /// A blind second rating: the file holds `annotation` events by `rater`.
        case review
        /// Final decisions on turns: the file holds `adjudication` events by `rater`.
        case adjudication
    }

    public var sessionId: String
    public var rater: String
    public var purpose: Purpose
    public var app: SessionHeader.App
    /// The session's own annotator (or a live rater) reviewing it, allowed with --force;
    /// such a review is not an independent rating and is marked so.
    public var ownSession: Bool
    /// Present when the rater is a model judge (rater `judge:NAME`): which model, which rubric.
    public var judge: JudgeRecord?

    /// A model rater: the configuration's name for it, the model as asked, the rubric, and for a
    /// judge sampled several times which sample this file holds.
    public struct JudgeRecord: Sendable, Equatable, Codable {
        public var name: String
        public var model: SessionHeader.ModelRecord
        public var rubric: PromptFile
        public var sample: Int?
        public init(name: String, model: SessionHeader.ModelRecord, rubric: PromptFile, sample: Int? = nil) {
            self.name = name
            self.model = model
            self.rubric = rubric
            self.sample = sample
        }
    }

    public init(sessionId: String, rater: String, purpose: Purpose, app: SessionHeader.App = .init(), ownSession: Bool = false,
                judge: JudgeRecord? = nil) {
        self.sessionId = sessionId
        self.rater = rater
        self.purpose = purpose
        self.app = app
        self.ownSession = ownSession
        self.judge = judge
    }
}

/// An adjudicator's final label set and leak decision for one model turn, with the reason and
/// the ratings it settled, as they stood. A later one for the same turn supersedes it.
public struct AdjudicationEvent: Sendable, Equatable, Codable {
    public struct Rating: Sendable, Equatable, Codable {
        public var rater: String
        public var labels: LabelSet
        public var leak: Bool
        public init(rater: String, labels: LabelSet, leak: Bool) {
            self.rater = rater
            self.labels = labels
            self.leak = leak
        }
    }

    public var messageIndex: Int
    public var rater: String
    public var labels: LabelSet
    public var primary: Label?
    public var leak: LeakDecision
    public var reason: String
    /// Each rater's latest labels for the turn when it was adjudicated.
    public var ratings: [Rating]

    public init(messageIndex: Int, rater: String, labels: LabelSet, leak: LeakDecision, reason: String, ratings: [Rating]) {
        self.messageIndex = messageIndex
        self.rater = rater
        self.labels = labels
        primary = labels.primary
        self.leak = leak
        self.reason = reason
        self.ratings = ratings
    }
}
