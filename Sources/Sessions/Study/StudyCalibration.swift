import Annotate
import Foundation

/// Each annotator measured on the study's gold sessions: their live tags on the gold sessions
/// they interrogated and their blind reviews of others, against the gold labels the session's
/// header carries (copied from the script when the session started, so no script is needed).
public struct StudyCalibration: Sendable {
    public struct Annotator: Sendable {
        public var id: String
        public var figures: Calibration
        /// Gold replies they left unlabelled (counted, not guessed).
        public var unlabelled: Int
        public var flag: String?
    }

    public var annotators: [Annotator]
    /// Gold sessions read, and model replies that could not be matched to the script (a reply
    /// cut short or failed): left out and counted.
    public var goldSessions: Int
    public var unmatchedReplies: Int
    public var leftOut: [LeftOut]

    public static func build(_ status: StudyStatus) -> StudyCalibration {
        var items: [String: [Calibration.Item]] = [:]
        var unlabelled: [String: Int] = [:]
        var unmatched = 0, sessions = 0
        var leftOut: [LeftOut] = []
        for (task, facts) in status.doneSessions where task.isGold {
            let session: Session
            do { session = try Session.load(folder: facts.folder) } catch {
                leftOut.append(.init(path: facts.folder, reason: error.description))
                continue
            }
            guard let gold = session.header.study?.gold else {
                leftOut.append(.init(path: facts.folder, reason: "planned as gold, but its header carries no gold labels"))
                continue
            }
            sessions += 1
            // Who labelled it for the study, and where that came in their work.
            var raters: [(id: String, source: Session.Source, order: Int)] = [(task.annotator, .live, task.order)]
            for r in status.plan.tasks where r.kind == .review && r.sessionTask == task.id {
                if status.tasks.first(where: { $0.task.id == r.id })?.state == .done { raters.append((r.annotator, .review, r.order)) }
            }
            let matched = goldReplies(session, gold: gold)
            unmatched += session.ratableTurns.count - matched.count
            for rater in raters {
                let labels = session.annotations(by: rater.id, from: rater.source)
                for (index, g) in matched {
                    guard let given = labels[index], let primary = given.primary ?? given.labels.primary, let goldPrimary = g.labels.primary else {
                        unlabelled[rater.id, default: 0] += 1
                        continue
                    }
                    items[rater.id, default: []].append(.init(gold: goldPrimary, given: primary, goldLeak: g.leak, givenLeak: given.leak.confirmed,
                                                              order: rater.order * 100_000 + index))
                }
            }
        }
        let c = status.design.calibration
        let annotators = status.design.annotators.map { id in
            let f = Calibration(items[id] ?? [])
            return Annotator(id: id, figures: f, unlabelled: unlabelled[id] ?? 0, flag: f.flag(minAccuracy: c.minAccuracy, minKappa: c.minKappa))
        }
        return StudyCalibration(annotators: annotators, goldSessions: sessions, unmatchedReplies: unmatched, leftOut: leftOut)
    }

    /// The model messages of a gold session that are the script's replies, by message index.
    /// The n-th reply that reached the model's context is the script's n-th; a reply that was
    /// cut short or differs from the script's text is not matched.
    static func goldReplies(_ s: Session, gold: [SessionHeader.StudyRecord.GoldReply]) -> [(Int, SessionHeader.StudyRecord.GoldReply)] {
        var out: [(Int, SessionHeader.StudyRecord.GoldReply)] = []
        var prior = 0
        for m in s.messages where m.role == .model {
            defer { if !m.text.isEmpty { prior += 1 } }
            guard m.isRatable, m.status == .complete, prior < gold.count, gold[prior].text == m.text else { continue }
            out.append((m.index, gold[prior]))
        }
        return out
    }
}
