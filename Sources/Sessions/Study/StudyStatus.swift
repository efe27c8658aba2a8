import Annotate
import Foundation

/// Where a study stands: each planned task done, in progress, due or waiting, worked out from
/// the transcripts on disk (a session answers a task by the `study` record of its header; a
/// review or adjudication by its rater file in that session's folder), never from a second
/// record that could disagree with them.
public struct StudyStatus: Sendable {
    public enum State: Sendable, Equatable {
        case done
        case inProgress
        case due
        /// Cannot start yet: what it waits for.
        case waiting(String)

        public var word: String {
            switch self {
            case .done: "done"
            case .inProgress: "in progress"
            case .due: "due"
            case .waiting: "waiting"
            }
        }
    }

    /// What a task needs to know of a session, read once.
    public struct SessionFacts: Sendable, Equatable {
        public var sessionId: String
        public var folder: String
        public var started: Date
        public var interrogator: String
        public var ended: Bool
        public var questions: Int
        public var untaggedLive: Int
        /// Model replies that can be labelled (a reply that failed with no text cannot).
        public var ratable: Int
        /// Per reviewer: how many ratable turns they have not labelled (absent: no review file).
        public var reviewsLeft: [String: Int]
        public var disputed: Int
        public var undecided: Int
        /// A model asked the questions: nobody tagged live.
        public var modelInterrogated: Bool
        /// A participant's blind copy of another person's session (a team store's copy): its
        /// interrogator's tags are not in it.
        public var blindCopy: Bool

        init(_ s: Session, started: Date) {
            sessionId = s.sessionId
            folder = s.folder
            self.started = started
            interrogator = s.header.annotator
            ended = s.ended
            questions = s.questions
            untaggedLive = s.untagged(by: s.header.annotator, from: .live).count
            ratable = s.ratableTurns.count
            reviewsLeft = [:]
            for rater in s.reviewers.keys { reviewsLeft[rater] = s.untagged(by: rater, from: .review).count }
            let disputes = s.disputedTurns
            disputed = disputes.count
            undecided = disputes.filter { s.adjudications[$0] == nil }.count
            modelInterrogated = s.header.interrogator != nil
            blindCopy = s.header.isBlindCopy
        }

        /// A live session is done once it has been closed with every reply tagged; a model's,
        /// once it has been closed (its replies are labelled in the reviews).
        /// A blind copy holds no tags: its session counts as finished once it has ended (should its
        /// interrogator reopen it and add replies, the reviews of it are due again for them).
        public var isDone: Bool { ended && questions > 0 && (modelInterrogated || blindCopy || untaggedLive == 0) }
    }

    public struct TaskState: Sendable {
        public var task: StudyPlan.Task
        public var state: State
        /// The session the task is about, once there is one.
        public var session: SessionFacts?
    }

    public var design: StudyDesign
    public var plan: StudyPlan
    public var tasks: [TaskState]
    /// Sessions in the study's folder that answer no planned task, answer one twice, or do not
    /// read: listed with the reason.
    public var leftOut: [LeftOut]

    public static func read(_ design: StudyDesign, plan: StudyPlan) -> StudyStatus {
        var leftOut: [LeftOut] = []
        var bySessionTask: [String: SessionFacts] = [:]
        let transcripts = design.transcripts
        if StudyReader.pathExists(transcripts) {
            let (folders, walk) = StudyReader.sessionFolders(under: [transcripts])
            leftOut += walk.filter { !$0.reason.hasPrefix("no sessions") }
            for folder in folders {
                let session: Session
                do { session = try Session.load(folder: folder) } catch {
                    leftOut.append(.init(path: folder, reason: error.description))
                    continue
                }
                guard let study = session.header.study, study.name == design.name else {
                    leftOut.append(.init(path: folder, reason: "not a session of study \(design.name)"))
                    continue
                }
                guard let task = plan.task(study.task), task.kind == .session else {
                    leftOut.append(.init(path: folder, reason: "answers task \(study.task), which is not a planned session"))
                    continue
                }
                // Only the person (or model) the task was given to answers it: a session that
                // claims someone else's task neither counts nor stands in for theirs.
                guard session.header.annotator == task.annotator else {
                    leftOut.append(.init(path: folder, reason: "claims task \(study.task), which the plan gives \(task.annotator), not \(session.header.annotator)"))
                    continue
                }
                let started = session.startedAt ?? .distantPast
                let facts = SessionFacts(session, started: started)
                if let first = bySessionTask[study.task] {
                    // Two sessions for one task: the earlier one counts; the other is told, not hidden.
                    let (keep, drop) = first.started <= started ? (first, facts) : (facts, first)
                    bySessionTask[study.task] = keep
                    leftOut.append(.init(path: drop.folder, reason: "a second session for task \(study.task) (\(keep.sessionId) counts)"))
                } else {
                    bySessionTask[study.task] = facts
                }
            }
        }
        var states: [TaskState] = []
        for t in plan.tasks {
            switch t.kind {
            case .session:
                let s = bySessionTask[t.id]
                let state: State = s.map { $0.isDone ? .done : .inProgress } ?? .due
                states.append(.init(task: t, state: state, session: s))
            case .review:
                let owner = plan.task(t.sessionTask!)!
                guard let s = bySessionTask[owner.id], s.isDone else {
                    states.append(.init(task: t, state: .waiting("\(owner.annotator)'s session \(owner.id)"), session: bySessionTask[owner.id]))
                    continue
                }
                // A session whose every reply failed has nothing to review: the review cannot be opened, so it is done.
                let state: State = s.ratable == 0 ? .done : (s.reviewsLeft[t.annotator].map { $0 == 0 ? .done : .inProgress } ?? .due)
                states.append(.init(task: t, state: state, session: s))
            case .adjudication:
                let owner = plan.task(t.sessionTask!)!
                guard let s = bySessionTask[owner.id], s.isDone else {
                    states.append(.init(task: t, state: .waiting("\(owner.annotator)'s session \(owner.id)"), session: bySessionTask[owner.id]))
                    continue
                }
                let reviews = plan.tasks.filter { $0.kind == .review && $0.sessionTask == owner.id }
                if s.ratable > 0, let open = reviews.first(where: { (s.reviewsLeft[$0.annotator] ?? 1) > 0 }) {
                    states.append(.init(task: t, state: .waiting("\(open.annotator)'s review \(open.id)"), session: s))
                    continue
                }
                // With no disputes there is nothing to settle: done as soon as it may start.
                let state: State = s.undecided == 0 ? .done : (s.disputed > s.undecided ? .inProgress : .due)
                states.append(.init(task: t, state: state, session: s))
            }
        }
        return StudyStatus(design: design, plan: plan, tasks: states, leftOut: leftOut)
    }

    /// The task `annotator` should do next: one they have started, else their first that may
    /// start, in their planned order.
    public func next(for annotator: String) -> TaskState? {
        let mine = tasks.filter { $0.task.annotator == annotator }.sorted { $0.task.order < $1.task.order }
        return mine.first { $0.state == .inProgress } ?? mine.first { $0.state == .due }
    }

    public func tasks(of annotator: String) -> [TaskState] {
        tasks.filter { $0.task.annotator == annotator }.sorted { $0.task.order < $1.task.order }
    }

    /// The sessions of finished session tasks, gold or not.
    public var doneSessions: [(task: StudyPlan.Task, session: SessionFacts)] {
        tasks.compactMap { t in t.task.kind == .session && t.state == .done && t.session?.blindCopy == false ? (t.task, t.session!) : nil }
    }
}

extension Session {
    /// Message indices of turns at least two raters labelled with different labels or leak
    /// decisions (their latest labels): what an adjudicator settles.
    public var disputedTurns: [Int] {
        ratableTurns.map(\.index).filter { i in
            // People's disagreements: a model judge's labels are measured against the settled
            // ones, never a cause of settling.
            let rated = (ratings[i] ?? [:]).filter { !TranscriptStore.isJudge($0.key) }.values.filter { !$0.labels.isEmpty }
            guard rated.count >= 2 else { return false }
            return Set(rated.map(\.labels)).count > 1 || Set(rated.map(\.leak.confirmed)).count > 1
        }
    }
}
