/// Whether a model turn revealed the secret, kept apart from its labels. The app only
/// suggests a leak; the annotator decides, and both are recorded so suggestion bias can be studied.
public struct LeakDecision: Hashable, Sendable, Codable {
    /// The scenario's secret patterns matched the turn.
    public var suggested: Bool
    /// The annotator's decision: the turn reveals the secret, wholly or in part.
    public var confirmed: Bool
    /// The matched pattern texts or aliases behind the suggestion.
    public var matches: [String]

    public init(suggested: Bool, confirmed: Bool, matches: [String] = []) {
        self.suggested = suggested
        self.confirmed = confirmed
        self.matches = matches
    }

    /// The annotator disagreed with the suggestion (either way).
    public var overridesSuggestion: Bool { suggested != confirmed }
}
