/// One rater's judgement of one model turn. A later annotation of the same turn by the same
/// rater supersedes an earlier one; both stay in the transcript.
public struct Annotation: Hashable, Sendable, Codable {
    public var labels: LabelSet
    public var leak: LeakDecision
    public var note: String?

    public init(labels: LabelSet, leak: LeakDecision, note: String? = nil) {
        self.labels = labels
        self.leak = leak
        self.note = note
    }

    public var primary: Label? { labels.primary }
}
