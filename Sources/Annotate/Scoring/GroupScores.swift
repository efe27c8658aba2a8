/// The scores of a group of transcripts (a model, a scenario, …), accumulated one transcript
/// at a time: only each transcript's row of scores (the distinct rows once, a transcript as the
/// number of its row) and a label coincidence matrix are kept, so memory grows with the number
/// of transcripts by 4 bytes each.
public struct GroupScores: Sendable {
    public private(set) var transcripts = 0
    public private(set) var turns = 0
    public private(set) var scoredTurns = 0
    public private(set) var untaggedTurns = 0
    public private(set) var tiedTurns = 0
    public private(set) var adjudicatedTurns = 0
    public private(set) var raters: Set<String> = []
    /// Per transcript, the value of each score in `Score.all` order (NaN = not defined).
    public private(set) var rows = ScoreRows(width: Score.all.count)
    /// Raters' primary labels per turn, for the group's Krippendorff alpha (nominal).
    public private(set) var coincidences = Coincidences(categories: Label.allCases.count)

    public init() {}

    public mutating func add(_ transcript: RatedTranscript, scores s: TranscriptScores) {
        add(unitCounts: Self.unitCounts(transcript), scores: s)
    }

    /// Each turn's number of raters per primary label (in severity order), laid out flat: all
    /// the group's alpha needs of a transcript. A report works it out on the core that read the
    /// transcript and hands over this one array rather than the transcript's ratings.
    public static func unitCounts(_ transcript: RatedTranscript) -> [Int] {
        let k = Label.count
        var out = [Int](repeating: 0, count: transcript.turns.count * k)
        for (i, turn) in transcript.turns.enumerated() {
            for j in turn.ratings.values { if let p = j.labels.primary { out[i * k + p.severityRank] += 1 } }
        }
        return out
    }

    public mutating func add(unitCounts: [Int], scores s: TranscriptScores) {
        transcripts += 1
        turns += s.turns
        scoredTurns += s.scored
        untaggedTurns += s.untagged
        tiedTurns += s.ties
        adjudicatedTurns += s.adjudicated
        raters.formUnion(s.raters)
        rows.append(s.valuesInOrder.map { $0 ?? .nan })
        let k = Label.count
        var unit = [Int](repeating: 0, count: k)
        for start in stride(from: 0, to: unitCounts.count - k + 1, by: k) {
            for c in 0..<k { unit[c] = unitCounts[start + c] }
            coincidences.add(unit: unit)
        }
    }

    public struct Figures: Sendable {
        public var summary: Summary
        public var bootstrap: Bootstrap.Interval?
    }

    /// Each score's mean, spread, t interval and bootstrap interval.
    public func figures(resamples: Int, seed: UInt64) -> [Score: Figures] {
        let intervals = Bootstrap.intervals(rows, resamples: resamples, seed: seed)
        var out: [Score: Figures] = [:]
        for (i, score) in Score.all.enumerated() {
            // Read from the rows as needed rather than copied out: a study's worth of values a score.
            let defined = (0..<rows.count).lazy.map { rows[transcript: $0, score: i] }.filter { !$0.isNaN }
            out[score] = Figures(summary: Summary(defined), bootstrap: intervals[i])
        }
        return out
    }

    /// Krippendorff's alpha (nominal, primary labels) over the group's turns rated twice or more.
    public var alpha: AgreementFigure { Agreement.krippendorffAlpha(coincidences, level: .nominal) }
}
