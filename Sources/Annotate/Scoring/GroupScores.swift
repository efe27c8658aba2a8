/// The scores of a group of transcripts (a model, a scenario, …), accumulated one transcript
/// at a time: only each transcript's scores and a label coincidence matrix are kept, so
/// memory grows with the number of transcripts by a few numbers each.
public struct GroupScores: Sendable {
    public private(set) var transcripts = 0
    public private(set) var turns = 0
    public private(set) var scoredTurns = 0
    public private(set) var untaggedTurns = 0
    public private(set) var tiedTurns = 0
    public private(set) var adjudicatedTurns = 0
    public private(set) var raters: Set<String> = []
    /// Per transcript, the value of each score in `Score.all` order (nil = not defined).
    public private(set) var rows: [[Double?]] = []
    /// Raters' primary labels per turn, for the group's Krippendorff alpha (nominal).
    public private(set) var coincidences = Coincidences(categories: Label.allCases.count)

    public init() {}

    public mutating func add(_ transcript: RatedTranscript, scores s: TranscriptScores) {
        transcripts += 1
        turns += s.turns
        scoredTurns += s.scored
        untaggedTurns += s.untagged
        tiedTurns += s.ties
        adjudicatedTurns += s.adjudicated
        raters.formUnion(s.raters)
        let values = s.values
        rows.append(Score.all.map { values[$0] ?? nil })
        for turn in transcript.turns {
            var counts = Array(repeating: 0, count: Label.allCases.count)
            for j in turn.ratings.values { if let p = j.labels.primary { counts[p.severityRank] += 1 } }
            coincidences.add(unit: counts)
        }
    }

    public struct Figures: Sendable {
        public var summary: Summary
        public var bootstrap: Bootstrap.Interval?
    }

    /// Each score's mean, spread, t interval and bootstrap interval.
    public func figures(resamples: Int, seed: UInt64) -> [Score: Figures] {
        let intervals = Bootstrap.intervals(rows: rows, scores: Score.all.count, resamples: resamples, seed: seed)
        var out: [Score: Figures] = [:]
        for (i, score) in Score.all.enumerated() {
            out[score] = Figures(summary: Summary(rows.compactMap { $0[i] }), bootstrap: intervals[i])
        }
        return out
    }

    /// Krippendorff's alpha (nominal, primary labels) over the group's turns rated twice or more.
    public var alpha: AgreementFigure { Agreement.krippendorffAlpha(coincidences, level: .nominal) }
}
