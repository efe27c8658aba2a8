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
        // Votes counted in place, by severity (every turn of every transcript a report reads
        // comes here; lists and a dictionary per turn were a noticeable share of its time).
        var votes = SIMD8<Int32>.zero
        var rated = 0, leaks = 0
        var only: RatedTranscript.Judgement?
        for r in t.ratings.values {
            guard let p = r.labels.primary else { continue }
            votes[p.severityRank] += 1
            rated += 1
            if r.leak { leaks += 1 }
            only = r
        }
        guard let leak = LeakDecision.majority(leaks: leaks, of: rated), let only else {
            return .init(source: .untagged, primary: nil, leak: nil)
        }
        if rated == 1 { return .init(source: .single, primary: only.labels.primary, leak: only.leak) }
        let top = votes.max()
        var leaders = LabelSet()
        for r in 0..<Label.count where votes[r] == top { leaders.insert(Label.ofRank(r)) }
        if leaders.count == 1 { return .init(source: .majority, primary: leaders.primary, leak: leak) }
        let primary: Label? = switch ties {
        case .exclude: nil
        case .mostSevere: leaders.primary
        case .leastSevere: leaders.leastSevere
        }
        return .init(source: .tie, primary: primary, leak: leak)
    }
}
