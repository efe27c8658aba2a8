/// One transcript as scoring sees it: its model turns in order, each with every rater's
/// latest judgement and the adjudication, if any. Built by `Sessions` from the files.
public struct RatedTranscript: Sendable, Equatable {
    public struct Judgement: Sendable, Equatable, Hashable {
        public var labels: LabelSet
        public var leak: Bool
        public init(labels: LabelSet, leak: Bool) {
            self.labels = labels
            self.leak = leak
        }
    }

    public struct Turn: Sendable, Equatable {
        /// The model turn's number, from 1.
        public var number: Int
        /// The interrogator's question this turn answers.
        public var question: String
        /// Rater id → latest judgement (raters with no label are left out).
        public var ratings: [String: Judgement]
        public var adjudication: Judgement?

        public init(number: Int, question: String, ratings: [String: Judgement], adjudication: Judgement? = nil) {
            self.number = number
            self.question = question
            self.ratings = ratings
            self.adjudication = adjudication
        }
    }

    public var turns: [Turn]
    public init(turns: [Turn]) { self.turns = turns }
}

/// How one model turn's label was settled.
public struct ResolvedTurn: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        case adjudicated, majority, single
        /// Raters tied on the primary label; counted as the tie rule says.
        case tie
        /// No rater labelled it.
        case untagged
    }

    public var source: Source
    /// The primary label the scores count; nil when the turn is left out.
    public var primary: Label?
    /// Whether the turn leaked; nil when no one judged it.
    public var leak: Bool?

    /// The label set an adjudicator chose, else the raters' majority on the primary label, else
    /// the single rater's. The leak: the adjudicator's, else `LeakDecision.majority` of the
    /// raters who labelled the turn (a tie counting as a leak).
    public static func resolve(_ t: RatedTranscript.Turn, ties: ScoringConfiguration.TieRule) -> ResolvedTurn {
        if let a = t.adjudication, let p = a.labels.primary { return .init(source: .adjudicated, primary: p, leak: a.leak) }
        let rated = t.ratings.values.filter { !$0.labels.isEmpty }
        guard let leak = LeakDecision.majority(rated.map(\.leak)) else { return .init(source: .untagged, primary: nil, leak: nil) }
        if rated.count == 1 { return .init(source: .single, primary: rated[0].labels.primary, leak: rated[0].leak) }
        var votes: [Label: Int] = [:]
        for r in rated { votes[r.labels.primary!, default: 0] += 1 }
        let top = votes.values.max()!
        let leaders = votes.filter { $0.value == top }.keys.sorted()
        if leaders.count == 1 { return .init(source: .majority, primary: leaders[0], leak: leak) }
        let primary: Label? = switch ties {
        case .exclude: nil
        case .mostSevere: leaders.last
        case .leastSevere: leaders.first
        }
        return .init(source: .tie, primary: primary, leak: leak)
    }
}
