import Annotate
import Foundation

/// What `interrogate signals` reads: every labelled model turn of the sessions under some
/// paths, with its sidecars, grouped; each group's analysis; and everything left out, with why.
public struct SignalsStudy: Sendable {
    public struct Group: Sendable {
        public var key: [String]
        public var sessions: Int
        /// Sessions with a logprobs.jsonl / probes.jsonl.
        public var sessionsWithLogprobs: Int
        public var sessionsWithProbes: Int
        /// Model turns with a resolved label (the analysis's turns), and without: untagged or tied.
        public var labelledTurns: Int
        public var untaggedTurns: Int
        public var tiedTurns: Int
        public var results: [SignalAnalysis.Result]
        /// The probe sets met, by sha256, with their version.
        public var probeSets: [String: String]
    }

    public var dimensions: [StudyReport.Dimension]
    public var groups: [Group]
    public var raters: RaterKinds
    public var ties: ScoringConfiguration.TieRule
    public var resamples: Int
    public var seed: UInt64
    /// Sessions that could not be counted, with why.
    public var failed: [LeftOut]
    /// Sessions that read whole but are not for signals (gold sessions), with why.
    public var excluded: [LeftOut]
    /// Sidecar lines left out, as "folder: file line n: why".
    public var sidecarProblems: [String]
    public var transcripts: Int { groups.reduce(0) { $0 + $1.sessions } }

    /// One session as the analysis keeps it.
    struct Read: Sendable {
        var sessionId: String
        var key: [String]
        var observations: [SignalObservation]
        var untagged = 0, tied = 0
        var logprobs = false, probes = false
        var probeSets: [String: String] = [:]
        var problems: [String] = []
    }

    public static func build(paths: [String], by dimensions: [StudyReport.Dimension], raters: RaterKinds,
                             ties: ScoringConfiguration.TieRule, resamples: Int, seed: UInt64,
                             progress: StudyProgress? = nil) -> SignalsStudy {
        var bySession: [[String]: [Read]] = [:]
        var order: [[String]] = []
        let (left, excluded) = StudyReader.forEachSession(under: paths, progress: progress, exclude: { session in
            session.header.study?.isGold == true ? "a gold session (a scripted suspect that measures annotators): never counted in model signals" : nil
        }, map: { s in
            read(s, key: dimensions.map { $0.value(TranscriptInfo(s)) }, raters: raters, ties: ties)
        }) { (r: Read) in
            if bySession[r.key] == nil { order.append(r.key) }
            bySession[r.key, default: []].append(r)
        }
        var problems: [String] = []
        var groups: [Group] = []
        for key in order.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let reads = bySession[key]!
            // Sessions numbered in reading order; folds are dealt by session id.
            var observations: [SignalObservation] = []
            for (n, r) in reads.enumerated() {
                observations += r.observations.map { var o = $0; o.session = n; return o }
                problems += r.problems
            }
            let rank = reads.indices.sorted { reads[$0].sessionId < reads[$1].sessionId }
            var sessionOrder = [Int](repeating: 0, count: reads.count)
            for (r, i) in rank.enumerated() { sessionOrder[i] = r }
            groups.append(Group(key: key, sessions: reads.count, sessionsWithLogprobs: reads.count(where: \.logprobs),
                                sessionsWithProbes: reads.count(where: \.probes), labelledTurns: observations.count,
                                untaggedTurns: reads.reduce(0) { $0 + $1.untagged }, tiedTurns: reads.reduce(0) { $0 + $1.tied },
                                results: SignalAnalysis.analyse(observations, sessionOrder: sessionOrder, resamples: resamples, seed: seed),
                                probeSets: reads.reduce(into: [:]) { $0.merge($1.probeSets) { a, _ in a } }))
        }
        return SignalsStudy(dimensions: dimensions, groups: groups, raters: raters, ties: ties, resamples: resamples, seed: seed,
                            failed: left, excluded: excluded, sidecarProblems: problems)
    }

    /// Whether the tokens are the reply's (white space aside: a server may trim the text and
    /// not the tokens). Only text in printable ASCII is compared: servers write a token that
    /// splits a character in their own ways (U+FFFD, "\\xf0\\x9f", an empty string), so a
    /// reply with any other character, or a backslash, is taken as it is.
    static func spells(_ r: LogprobRecord, _ text: String) -> Bool {
        let joined = r.tokens.map(\.token).joined()
        func comparable(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { $0.isASCII && $0 != "\\" && ($0.value >= 0x20 || $0.properties.isWhitespace) } }
        guard comparable(joined), comparable(text) else { return true }
        return joined.unicodeScalars.filter { !$0.properties.isWhitespace }.elementsEqual(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    }

    static func read(_ s: Session, key: [String], raters: RaterKinds, ties: ScoringConfiguration.TieRule) -> Read {
        var r = Read(sessionId: s.sessionId, key: key, observations: [])
        let sidecars = SignalSidecar.read(folder: s.folder)
        r.logprobs = sidecars.logprobs != nil
        r.probes = sidecars.probes != nil
        let where_ = Session.folderName(s.folder)
        r.problems = sidecars.problems.map { "\(where_): \($0)" }
        let rated = StudyReader.rated(s, raters: raters)
        let turns = s.modelTurns
        let replies = Set(turns.map(\.reply.index))
        for (name, indices) in [(SignalSidecar.logprobsFileName, sidecars.logprobs.map { Array($0.keys) } ?? []),
                                (SignalSidecar.probesFileName, sidecars.probes.map { Array($0.keys) } ?? [])] {
            for i in indices.sorted() where !replies.contains(i) {
                r.problems.append("\(where_): \(name): message \(i) is not a model reply in \(TranscriptStore.sessionFileName); left out")
            }
        }
        for (turn, ratedTurn) in zip(turns, rated.turns) {
            let resolved = ResolvedTurn.resolve(ratedTurn, ties: ties)
            guard let label = resolved.primary else {
                if resolved.source == .tie { r.tied += 1 } else { r.untagged += 1 }
                continue
            }
            var o = SignalObservation(session: 0, label: label, length: turn.reply.text.count)
            // The header says what was asked: the server sent none, or their line was left out (named on stderr).
            if s.header.model.parameters.logprobs == true { o.missing = "asked for, none recorded" }
            if let lp = sidecars.logprobs?[turn.reply.index] {
                if Self.spells(lp, turn.reply.text) {
                    o.signals = ReplySignals(tokens: lp.probabilities)
                    o.topK = lp.topLogprobs
                } else {
                    o.missing = "tokens do not spell the reply"
                    r.problems.append("\(where_): \(SignalSidecar.logprobsFileName): message \(turn.reply.index)'s tokens do not spell its text in \(TranscriptStore.sessionFileName); left out")
                }
            }
            if let p = sidecars.probes?[turn.reply.index] {
                o.probeSet = p.probeSet.sha256
                r.probeSets[p.probeSet.sha256] = p.probeSet.version
                let answers = p.answers.map { a -> Double? in a.answer == .yes ? 1 : a.answer == .no ? 0 : nil }
                o.probeAnswers = answers.contains(nil) || answers.isEmpty ? nil : answers.map { $0! }
                let odds = p.answers.map { a -> Double? in
                    guard let y = a.logprobYes, let n = a.logprobNo else { return nil }
                    return y - n
                }
                o.probeLogOdds = odds.contains(nil) || odds.isEmpty ? nil : odds.map { $0! }
                if p.answers.allSatisfy({ $0.logprobYes == nil && $0.logprobNo == nil }) {
                    o.probeLogOddsMissing = "no log-probabilities for the probes (none sent, or neither word listed)"
                }
            }
            r.observations.append(o)
        }
        return r
    }
}
