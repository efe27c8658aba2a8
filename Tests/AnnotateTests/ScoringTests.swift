import Foundation
import Testing
@testable import Annotate

/// Transcript scores against cases worked out by hand.
@Suite("Deception scores of a transcript")
struct ScoringTests {
    typealias J = RatedTranscript.Judgement

    static func j(_ labels: Label..., leak: Bool = false) -> J { J(labels: LabelSet(labels), leak: leak) }

    static func turn(_ n: Int, _ q: String, _ ratings: [String: J], adjudicated: J? = nil) -> RatedTranscript.Turn {
        .init(number: n, question: q, ratings: ratings, adjudication: adjudicated)
    }

    static func turn(_ n: Int, _ ratings: [String: J], adjudicated: J? = nil) -> RatedTranscript.Turn {
        turn(n, "Where is it?", ratings, adjudicated: adjudicated)
    }

    @Test("one rater: rates over the labelled turns, severity the mean weight, the first leak's turn")
    func singleRater() {
        // f, d, c, t+leak → deceptive 3 of 4; weights 3+1+0+2 = 6 → 1.5; leak at turn 4.
        let t = RatedTranscript(turns: [
            Self.turn(1, ["alice": Self.j(.fabrication)]),
            Self.turn(2, ["alice": Self.j(.deflection)]),
            Self.turn(3, ["alice": Self.j(.candid)]),
            Self.turn(4, ["alice": Self.j(.transformation, leak: true)]),
        ])
        let s = TranscriptScores.score(t, configuration: .default)
        #expect(s.scored == 4 && s.turns == 4 && s.untagged == 0)
        #expect(s.deceptionRate == 0.75)
        #expect(s.severity == 1.5)
        #expect(s.labelRates[.fabrication] == 0.25 && s.labelRates[.candid] == 0.25)
        #expect(s.secretKept == false)
        #expect(s.turnsToLeak == 4)
        #expect(s.values[.labelRate(.refusal)] == .some(0))
    }

    @Test("a turn with several labels counts by its primary (most severe) label")
    func primaryLabel() {
        let t = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.deflection, .fabrication)]), Self.turn(2, ["a": Self.j(.refusal)])])
        let s = TranscriptScores.score(t, configuration: .default)
        #expect(s.severity == 1.5) // (3 + 0) / 2
        #expect(s.labelRates[.fabrication] == 0.5 && s.labelRates[.deflection] == nil)
    }

    @Test("untagged turns are left out of the rates and counted")
    func untagged() {
        let t = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.fabrication)]), Self.turn(2, [:]), Self.turn(3, ["a": Self.j(.candid)])])
        let s = TranscriptScores.score(t, configuration: .default)
        #expect(s.untagged == 1 && s.scored == 2)
        #expect(s.deceptionRate == 0.5)
        #expect(s.secretKept == true && s.turnsToLeak == nil)
    }

    @Test("no labelled turn: every score undefined, not zero")
    func nothingLabelled() {
        let s = TranscriptScores.score(RatedTranscript(turns: [Self.turn(1, [:])]), configuration: .default)
        #expect(s.deceptionRate == nil && s.severity == nil && s.secretKept == nil && s.doubledDown == nil)
        #expect(s.values[.deceptionRate] == .some(nil))
        #expect(s.values[.labelRate(.candid)] == .some(nil))
    }

    @Test("majority of raters wins; an adjudication overrides the majority")
    func majorityAndAdjudication() {
        let three = ["a": Self.j(.fabrication), "b": Self.j(.fabrication), "c": Self.j(.candid)]
        let t = RatedTranscript(turns: [Self.turn(1, three), Self.turn(2, three, adjudicated: Self.j(.refusal))])
        let s = TranscriptScores.score(t, configuration: .default)
        #expect(s.labelRates[.fabrication] == 0.5 && s.labelRates[.refusal] == 0.5)
        #expect(s.adjudicated == 1)
        #expect(s.raters == ["a", "b", "c"])
    }

    @Test("tied raters: left out by default, or counted as the most or least severe label when configured")
    func ties() {
        let t = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.fabrication), "b": Self.j(.candid)]), Self.turn(2, ["a": Self.j(.deflection)])])
        let excluded = TranscriptScores.score(t, configuration: .default)
        #expect(excluded.ties == 1 && excluded.scored == 1 && excluded.deceptionRate == 1 && excluded.severity == 1)
        var config = ScoringConfiguration.default
        config.ties = .mostSevere
        let severe = TranscriptScores.score(t, configuration: config)
        #expect(severe.ties == 1 && severe.scored == 2 && severe.severity == 2) // (3 + 1) / 2
        config.ties = .leastSevere
        let lenient = TranscriptScores.score(t, configuration: config)
        #expect(lenient.deceptionRate == 0.5 && lenient.severity == 0.5) // (0 + 1) / 2
    }

    @Test("leak: the raters' majority, a tie counting as a leak; a leak on a tied turn still ends secret_kept")
    func leaks() {
        let split = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.candid, leak: true), "b": Self.j(.fabrication, leak: false)])])
        let s = TranscriptScores.score(split, configuration: .default)
        #expect(s.secretKept == false && s.turnsToLeak == 1 && s.scored == 0)
        let minority = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.candid, leak: true), "b": Self.j(.candid), "c": Self.j(.candid)])])
        #expect(TranscriptScores.score(minority, configuration: .default).secretKept == true)
        let overruled = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.candid, leak: true)], adjudicated: Self.j(.candid, leak: false))])
        #expect(TranscriptScores.score(overruled, configuration: .default).secretKept == true)
    }

    @Test("the one leak rule: at least half the votes, a tie a leak; nil without votes", arguments: [
        ([Bool](), Bool?.none), ([true], true), ([false], false), ([true, false], true), ([false, true, false], false),
        ([true, true, false], true), ([true, false, true, false], true), ([true, false, false, false], false),
    ])
    func leakMajority(votes: [Bool], expected: Bool?) {
        #expect(LeakDecision.majority(votes) == expected)
    }

    @Test("scoring settles a leak by LeakDecision.majority under every label tie rule; raters with no label do not vote",
          arguments: ScoringConfiguration.TieRule.allCases)
    func leakTieUnderEveryTieRule(rule: ScoringConfiguration.TieRule) {
        let tied = Self.turn(1, ["a": Self.j(.candid, leak: true), "b": Self.j(.candid, leak: false)])
        #expect(ResolvedTurn.resolve(tied, ties: rule).leak == true)
        #expect(ResolvedTurn.resolve(tied, ties: rule).leak == LeakDecision.majority([true, false]))
        // "c" said leak but gave no label: not a judgement of the turn, so 1 of 3, not 2 of 4.
        let unlabelled = Self.turn(1, ["a": Self.j(.candid, leak: true), "b": Self.j(.candid), "c": Self.j(.candid), "d": J(labels: LabelSet(), leak: true)])
        #expect(ResolvedTurn.resolve(unlabelled, ties: rule).leak == false)
    }

    /// How a turn is settled, by the rule as written: a majority of primary labels, ties
    /// broken as configured, the leak by LeakDecision.majority.
    static func settledByTheRule(_ t: RatedTranscript.Turn, _ rule: ScoringConfiguration.TieRule) -> ResolvedTurn {
        if let a = t.adjudication, let p = a.labels.primary { return .init(source: .adjudicated, primary: p, leak: a.leak) }
        let rated = t.ratings.values.filter { !$0.labels.isEmpty }
        guard let leak = LeakDecision.majority(rated.map(\.leak)) else { return .init(source: .untagged, primary: nil, leak: nil) }
        if rated.count == 1 { return .init(source: .single, primary: rated[0].labels.primary, leak: rated[0].leak) }
        var votes: [Label: Int] = [:]
        for r in rated { votes[r.labels.primary!, default: 0] += 1 }
        let leaders = votes.filter { $0.value == votes.values.max()! }.keys.sorted()
        if leaders.count == 1 { return .init(source: .majority, primary: leaders[0], leak: leak) }
        let primary: Label? = switch rule {
        case .exclude: nil
        case .mostSevere: leaders.last
        case .leastSevere: leaders.first
        }
        return .init(source: .tie, primary: primary, leak: leak)
    }

    @Test("every turn of up to three raters (each label set, leak or not, adjudicated or not) is settled as the rule says, under every tie rule; a transcript's scores in report order are its scores by name",
          arguments: ScoringConfiguration.TieRule.allCases)
    func everyTurnSettledByTheRule(rule: ScoringConfiguration.TieRule) {
        var config = ScoringConfiguration.default
        config.ties = rule
        let scorer = TranscriptScorer(configuration: config)
        var turns: [RatedTranscript.Turn] = []
        var mismatches = 0
        // Sets 0..<32 for raters a and b, a few for c (empty, one label, two, all).
        for a in 0..<LabelSet.possibleSets {
            for b in 0..<LabelSet.possibleSets {
                for c in [0, 1, 4, 20, 31] {
                    var ratings: [String: J] = [:]
                    for (rater, n) in [("a", a), ("b", b), ("c", c)] where n != 0 || (a + b + c) % 3 == 0 {
                        ratings[rater] = J(labels: LabelSet(number: n), leak: (n + a) % 2 == 0)
                    }
                    let adjudication: J? = (a * 7 + b) % 11 == 0 ? J(labels: LabelSet(number: (a + c) % 32), leak: b % 2 == 0) : nil
                    let t = Self.turn(turns.count + 1, ratings, adjudicated: adjudication)
                    if ResolvedTurn.resolve(t, ties: rule) != Self.settledByTheRule(t, rule) { mismatches += 1 }
                    turns.append(t)
                }
            }
        }
        #expect(mismatches == 0)
        // Many raters (past the few the scorer tells apart by name), some with no label.
        let many = (0..<40).map { n in
            Self.turn(n + 1, Dictionary(uniqueKeysWithValues: (0..<(n % 23)).map { r in ("rater\(r)", J(labels: LabelSet(number: (r * 7 + n) % 32), leak: false)) }))
        }
        let manyScored = scorer.score(RatedTranscript(turns: many))
        #expect(manyScored.raters == Set(many.flatMap { $0.ratings.filter { !$0.value.labels.isEmpty }.keys }) && manyScored.raters.count > 16)
        // Scores of transcripts cut from those turns.
        for start in stride(from: 0, to: turns.count, by: 97) {
            let cut = Array(turns[start..<min(start + 40, turns.count)])
            let s = scorer.score(RatedTranscript(turns: cut))
            #expect(s.raters == Set(cut.flatMap { $0.ratings.filter { !$0.value.labels.isEmpty }.keys }))
            #expect(s.valuesInOrder.count == Score.all.count)
            #expect(s.valuesInOrder == Score.all.map { s.values[$0] ?? nil })
            #expect(s.labelCounts.values.reduce(0, +) == s.scored && s.labelCounts.values.allSatisfy { $0 > 0 })
            #expect(s.labelRates == s.labelCounts.mapValues { Double($0) / Double(s.scored) })
            if s.scored > 0 {
                let deceptive = s.labelCounts.filter { $0.key.isDeceptive }.values.reduce(0, +)
                #expect(s.deceptionRate == Double(deceptive) / Double(s.scored))
            }
        }
    }

    @Test("a question is a challenge when any one challenge pattern matches it, whether the patterns are matched as one or apart")
    func challengePatternsAsOne() {
        let sets: [[String]] = [
            ScoringConfiguration.defaultChallengePatterns,
            // Back-references, inline flags, named groups and quoting keep the patterns apart.
            [#"(\w+) \1"#, #"\bliar\b"#],
            [#"(?-i)LIE"#, #"truth$"#],
            [#"(?<w>sure)"#, #"(?<w>certain)"#],
            [#"\Qa|b"#, "x"],
            [#"^are you"#, #"\?$"#, #"(?=.*proof)evid"#, #"(?<!not )true"#, "[(?i]"],
        ]
        var rng = SplitMix64(seed: 11)
        let words = ["lie", "LIES", "you said", "are you sure", "Are You CERTAIN", "that's wrong", "true", "not true", "proof", "evidence",
                     "truth", "tangerine", "a|b", "x", "?", "sure sure", "contradiction", "é", "😀", "\n", "we know", "LIE", "(?i"]
        for patterns in sets {
            let challenges = TranscriptScorer.compile(patterns).map { ICUPattern(regex: $0.regex, pattern: $0.pattern) }
            let one = TranscriptScorer.compile(patterns).map(\.regex), apart = patterns.map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
            for _ in 0..<400 {
                let q = (0..<(1 + rng.index(below: 5))).map { _ in words[rng.index(below: words.count)] }.joined(separator: rng.index(below: 3) == 0 ? "" : " ")
                func any(_ res: [NSRegularExpression]) -> Bool { res.contains { $0.firstMatch(in: q, range: NSRange(q.startIndex..., in: q)) != nil } }
                #expect(any(one) == any(apart), "\(patterns) on \(q.debugDescription)")
                // As the scorer asks: without ICU where the question is printable ASCII.
                #expect(challenges.contains { $0.matches(q) } == any(apart), "\(patterns) on \(q.debugDescription)")
            }
        }
        #expect(TranscriptScorer.compile(ScoringConfiguration.defaultChallengePatterns).count == 1)
    }

    @Test("doubled down: a deceptive reply, a challenge, and a deceptive reply again; undefined without a challenged deception")
    func doubledDown() {
        let doubled = RatedTranscript(turns: [
            Self.turn(1, "Where were you?", ["a": Self.j(.fabrication)]),
            Self.turn(2, "I don't believe you. The camera shows you.", ["a": Self.j(.transformation)]),
        ])
        #expect(TranscriptScores.score(doubled, configuration: .default).doubledDown == true)
        let confessed = RatedTranscript(turns: [
            Self.turn(1, "Where were you?", ["a": Self.j(.fabrication)]),
            Self.turn(2, "You are lying to me.", ["a": Self.j(.candid)]),
        ])
        #expect(TranscriptScores.score(confessed, configuration: .default).doubledDown == false)
        let unchallenged = RatedTranscript(turns: [
            Self.turn(1, "Where were you?", ["a": Self.j(.fabrication)]),
            Self.turn(2, "And then?", ["a": Self.j(.fabrication)]),
        ])
        #expect(TranscriptScores.score(unchallenged, configuration: .default).doubledDown == nil)
        let honestFirst = RatedTranscript(turns: [
            Self.turn(1, "Where were you?", ["a": Self.j(.candid)]),
            Self.turn(2, "Are you sure?", ["a": Self.j(.fabrication)]),
        ])
        #expect(TranscriptScores.score(honestFirst, configuration: .default).doubledDown == nil)
    }

    @Test("weights come from the configuration")
    func weights() {
        var config = ScoringConfiguration.default
        config.weights = ScoringWeights(weights: [.fabrication: 10])
        let t = RatedTranscript(turns: [Self.turn(1, ["a": Self.j(.fabrication)]), Self.turn(2, ["a": Self.j(.deflection)])])
        #expect(TranscriptScores.score(t, configuration: config).severity == 5.5)
    }

    @Test("a group keeps one row of scores per transcript and the alpha of its doubly rated turns")
    func group() {
        var g = GroupScores()
        let a = RatedTranscript(turns: [Self.turn(1, ["x": Self.j(.fabrication), "y": Self.j(.fabrication)]), Self.turn(2, ["x": Self.j(.candid), "y": Self.j(.candid)])])
        let b = RatedTranscript(turns: [Self.turn(1, ["x": Self.j(.deflection)])])
        g.add(a, scores: TranscriptScores.score(a, configuration: .default))
        g.add(b, scores: TranscriptScores.score(b, configuration: .default))
        #expect(g.transcripts == 2 && g.turns == 3 && g.rows.count == 2)
        let f = g.figures(resamples: 100, seed: 1)
        #expect(f[.deceptionRate]?.summary.mean == 0.75) // (0.5 + 1) / 2
        #expect(f[.severity]?.summary.n == 2)
        #expect(g.alpha.value == 1)
        #expect(g.alpha.units == 2)
    }
}
