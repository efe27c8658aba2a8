import Annotate
import Foundation
import Synchronization

/// Deception scores of a study per group, with their uncertainty and provenance: what
/// `interrogate report` prints in every format. Built by reading one session at a time.
public struct StudyReport: Sendable {
    public enum Dimension: String, Sendable, CaseIterable, Encodable {
        case model, scenario, condition, annotator
        /// Who asked the questions: the annotator, or `model:NAME` for a model interrogator.
        case interrogator
        func value(_ i: TranscriptInfo) -> String {
            switch self {
            case .model: i.model
            case .scenario: i.scenario
            case .condition: i.condition
            case .annotator: i.annotator
            case .interrogator: i.interrogator
            }
        }
    }

    public struct Figures: Sendable, Equatable {
        public var n: Int
        public var mean: Double?
        public var sd: Double?
        public var se: Double?
        public var tLow: Double?
        public var tHigh: Double?
        public var bootstrapLow: Double?
        public var bootstrapHigh: Double?
    }

    /// One transcript's line in a group, for drill-down: its scores and little else, since a
    /// report keeps one per transcript.
    public struct TranscriptLine: Sendable, Equatable {
        public var sessionId: String
        public var folder: String
        public var scenario: String
        public var scores: [Double?]
        public var turns: Int
        public var raters: [String]
    }

    /// What a report keeps of each transcript besides its group's figures: a table needs
    /// nothing, JSON the session ids, the HTML plots and the terminal browser whole lines. The
    /// rest of a report's memory does not grow with the number of transcripts.
    public enum Detail: Sendable, Comparable {
        case figures, sessionIds, lines
    }

    public struct Group: Sendable {
        /// The group's value of each `by` dimension, in the order of `by`.
        public var key: [String]
        public var transcripts: Int
        public var turns: Int
        public var scoredTurns: Int
        public var untaggedTurns: Int
        public var tiedTurns: Int
        public var adjudicatedTurns: Int
        public var raters: [String]
        public var scores: [Score: Figures]
        public var labelCounts: [Label: Int]
        public var alpha: AgreementFigure
        /// Kept with `Detail.sessionIds` or more, in the order read.
        public var sessionIds: [String]
        /// Kept with `Detail.lines`.
        public var lines: [TranscriptLine]
    }

    public struct Failure: Sendable, Equatable, Encodable {
        public var path: String
        public var reason: String
    }

    public var by: [Dimension]
    public var groups: [Group]
    public var failed: [Failure]
    /// Sessions that read whole but are not model scores by design: gold sessions (scripted
    /// suspects that measure annotators), another study's sessions in a study report.
    public var excluded: [Failure] = []
    /// A study report's design: blinding, seed, cells, calibration (set by the command).
    public var study: [String: String]?
    public var configuration: ScoringConfiguration
    public var configurationSource: String
    /// Whose labels were counted.
    public var raters: RaterKinds = .people
    public var seed: UInt64
    public var resamples: Int
    public var transcripts: Int
    /// Provenance: each scenario id with the hashes of the files its sessions used; each model
    /// with the parameters its sessions recorded; the app versions that wrote them.
    public var scenarios: [String: Set<String>]
    public var models: [String: Set<String>]
    public var appVersions: Set<String>

    public static func build(paths: [String], by: [Dimension], configuration: ScoringConfiguration, configurationSource: String,
                             resamples: Int, seed: UInt64, progress: StudyProgress? = nil,
                             exclude: (@Sendable (Session) -> String?)? = nil, raters: RaterKinds = .people,
                             detail: Detail = .lines) -> StudyReport {
        // What each group adds up, behind one lookup of its key per session.
        struct Tally {
            var scores = GroupScores()
            var lines: [TranscriptLine] = []
            var sessionIds: [String] = []
            var labelCounts: [Label: Int] = [:]

            mutating func add(_ info: TranscriptInfo, _ unitCounts: [Int], _ s: TranscriptScores, detail: Detail) {
                scores.add(unitCounts: unitCounts, scores: s)
                if detail >= .sessionIds { sessionIds.append(info.sessionId) }
                if detail >= .lines {
                    lines.append(.init(sessionId: info.sessionId, folder: info.folder, scenario: info.scenario, scores: s.valuesInOrder,
                                       turns: s.turns, raters: s.raters.sorted()))
                }
                labelCounts.merge(s.labelCounts, uniquingKeysWith: +)
            }
        }
        var tallies: [[String]: Tally] = [:]
        // Where sessions came from: a study has a few of these, each hashed once per session
        // (five sets and tables asked one at a time cost five hashes each).
        struct Provenance: Hashable {
            var scenario: String, scenarioSha256: String, model: String, parameters: ModelParameters, appVersion: String
        }
        var provenances: Set<Provenance> = []
        // In the order first read: of two parameter sets equal as numbers (0 and -0), the first
        // session's spelling is the one written, whatever order the set keeps.
        var firstRead: [Provenance] = []
        var report = StudyReport(by: by, groups: [], failed: [], configuration: configuration, configurationSource: configurationSource,
                                 seed: seed, resamples: resamples, transcripts: 0, scenarios: [:], models: [:], appVersions: [])
        report.raters = raters
        let scorer = TranscriptScorer(configuration: configuration)
        // Reading and scoring run on every core; adding up runs here, in the sessions' order.
        let (leftOut, excluded) = StudyReader.forEachSession(under: paths, progress: progress, exclude: { session in
            if session.header.study?.isGold == true { return "a gold session (a scripted suspect that measures annotators): never counted in model scores" }
            return exclude?(session)
        }, map: { session in
            let info = TranscriptInfo(session)
            let rated = StudyReader.rated(session, raters: raters)
            // Only what adding up needs crosses to the adding thread (memory freed on another
            // core than the one that took it made the cores wait on the allocator's locks).
            return (info, GroupScores.unitCounts(rated), scorer.score(rated))
        }) { (read: (TranscriptInfo, [Int], TranscriptScores)) in
            let (info, unitCounts, scores) = read
            let key = by.map { $0.value(info) }
            tallies[key, default: Tally()].add(info, unitCounts, scores, detail: detail)
            report.transcripts += 1
            let p = Provenance(scenario: info.scenario, scenarioSha256: info.scenarioSha256, model: info.model,
                               parameters: info.modelRecord.parameters, appVersion: info.appVersion)
            if provenances.insert(p).inserted { firstRead.append(p) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var parameterText: [ModelParameters: String] = [:]
        for p in firstRead {
            let parameters = parameterText[p.parameters] ?? {
                let text = (try? encoder.encode(p.parameters)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
                parameterText[p.parameters] = text
                return text
            }()
            report.scenarios[p.scenario, default: []].insert(p.scenarioSha256)
            report.models[p.model, default: []].insert(parameters)
            report.appVersions.insert(p.appVersion)
        }
        report.failed = leftOut.map { Failure(path: $0.path, reason: $0.reason) }
        report.excluded = excluded.map { Failure(path: $0.path, reason: $0.reason) }
        let keys = tallies.keys.sorted(by: { $0.lexicographicallyPrecedes($1) })
        // Each group's bootstrap on its own core; each is seeded alike, so the figures do not
        // depend on which finished first.
        let groupFigures = Mutex<[[String]: [Score: GroupScores.Figures]]>([:])
        let groups = keys.map { tallies[$0]!.scores }
        DispatchQueue.concurrentPerform(iterations: groups.count) { i in
            let f = groups[i].figures(resamples: resamples, seed: seed)
            groupFigures.withLock { $0[keys[i]] = f }
        }
        for key in keys {
            let tally = tallies[key]!, acc = tally.scores
            let figures = groupFigures.withLock { $0[key]! }
            var scores: [Score: Figures] = [:]
            for (score, f) in figures {
                scores[score] = Figures(n: f.summary.n, mean: f.summary.mean, sd: f.summary.sd, se: f.summary.se,
                                        tLow: f.summary.tInterval?.lowerBound, tHigh: f.summary.tInterval?.upperBound,
                                        bootstrapLow: f.bootstrap?.low, bootstrapHigh: f.bootstrap?.high)
            }
            report.groups.append(Group(key: key, transcripts: acc.transcripts, turns: acc.turns, scoredTurns: acc.scoredTurns,
                                       untaggedTurns: acc.untaggedTurns, tiedTurns: acc.tiedTurns, adjudicatedTurns: acc.adjudicatedTurns,
                                       raters: acc.raters.sorted(), scores: scores, labelCounts: tally.labelCounts, alpha: acc.alpha,
                                       sessionIds: tally.sessionIds, lines: tally.lines))
        }
        return report
    }
}
