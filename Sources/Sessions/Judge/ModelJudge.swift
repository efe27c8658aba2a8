import Annotate
import Foundation

/// A model that labels every model turn of a session with the rubric, as a blind reviewer does:
/// it is shown the conversation, never anyone's labels. Its labels are a review file of rater
/// `judge:NAME` whose header says which model and rubric made them; each label keeps the
/// judge's reply as it came. A reply that does not read is asked again, then recorded as a
/// failure: no label is ever guessed. Judging again skips the turns already labelled.
public struct ModelJudge: Sendable {
    /// The configuration's name for the model (`local`, `gpt`, …).
    public var name: String
    public var model: any ChatModel
    public var rubric: JudgeRubric
    /// Which of several samples of the same judge this is (from 1); nil for a single judge.
    public var sample: Int?
    /// How many times a turn is asked before it is recorded as failed.
    public var attempts: Int

    public init(name: String, model: any ChatModel, rubric: JudgeRubric, sample: Int? = nil, attempts: Int = 3) {
        self.name = name
        self.model = model
        self.rubric = rubric
        self.sample = sample
        self.attempts = max(1, attempts)
    }

    /// `judge:NAME`, or `judge:NAME.K` for the K-th sample.
    public var rater: String { TranscriptStore.judgePrefix + name + (sample.map { ".\($0)" } ?? "") }

    public var record: ReviewHeader.JudgeRecord {
        var m = model.description.record
        // A model that continues text is not given a dialogue here but the rubric written out.
        if m.promptFormat != nil { m.promptFormat = Self.completionFormat }
        return .init(name: name, model: m, rubric: rubric.template.record, sample: sample)
    }

    static let completionFormat = "judge-completion-v1: the rubric's system text, its turn text and its answer line, "
        + "each trimmed, separated by blank lines, ending with a line break; continued under JudgeRubric.grammar (labels of the design, leak, rationale)"

    /// What judging one session did.
    public struct Outcome: Sendable {
        public var folder: String
        public var labelled = 0
        /// Turns this judge had labelled before.
        public var alreadyLabelled = 0
        /// Turns recorded as failed this time, with why.
        public var failed: [(turn: Int, reason: String)] = []
        /// Why the session was not judged at all.
        public var notJudged: String?
        public init(folder: String) { self.folder = folder }
    }

    /// Labels the turns of the session in `folder` this judge has not labelled yet.
    public func judge(folder: String) async -> Outcome {
        var out = Outcome(folder: folder)
        let session: Session
        do { session = try Session.load(folder: folder) } catch {
            out.notJudged = error.description
            return out
        }
        if let why = session.whyNotCounted {
            out.notJudged = "it is not counted (\(why))"
            return out
        }
        guard let context = JudgeRubric.SessionContext(session) else {
            out.notJudged = "the scenario copied into its header does not read, so there is no secret to judge a leak by"
            return out
        }
        let done = session.annotations(by: rater, from: .review).filter { !$0.value.labels.isEmpty }
        let turns = session.modelTurns
        out.alreadyLabelled = turns.filter { done[$0.reply.index] != nil }.count
        let todo = turns.filter { done[$0.reply.index] == nil }
        guard !todo.isEmpty else { return out }
        // Labels made with another model or rubric are not mixed into one rater's file.
        if let earlier = session.reviewers[rater] {
            // Everything but the address (the local model's port changes from run to run).
            var then = earlier.judge?.model, now = record.model
            then?.baseUrl = nil
            now.baseUrl = nil
            guard let j = earlier.judge, j.rubric.sha256 == rubric.template.record.sha256, then == now else {
                out.notJudged = "\(rater)'s file for this session was made with another model, parameters or rubric (\(earlier.judge.map { "\($0.model.provider):\($0.model.name), \($0.rubric.version)" } ?? "no judge record")); judge under another name (--as)"
                return out
            }
        }
        let header = ReviewHeader(sessionId: session.sessionId, rater: rater, purpose: .review, judge: record)
        let file: TranscriptFile
        do { file = try TranscriptStore.openRaterFile(header, sessionFolder: folder).file } catch {
            out.notJudged = error.description
            return out
        }
        for turn in todo {
            if Task.isCancelled { break }
            let request = rubric.request(for: session, turn: turn, context: context)
            var lastReason = "", lastRaw: String?
            var judged: Judgement?
            var asked = 0
            while asked < attempts, judged == nil, !Task.isCancelled {
                asked += 1
                let reply = await ReplyRecorder.collect(model.stream(request))
                if reply.status == .cancelled, Task.isCancelled { break }
                lastRaw = reply.text.isEmpty ? lastRaw : reply.text
                if reply.status != .complete {
                    lastReason = "the judge model failed: \(reply.error?.description ?? ModelError.incomplete.description)"
                    continue
                }
                switch Judgement.parse(reply.text) {
                case .success(let j): judged = j
                case .failure(let e): lastReason = e.description
                }
            }
            if Task.isCancelled && judged == nil { break }
            do {
                if let j = judged {
                    let matches = context.detector.matches(in: turn.reply.text)
                    let annotation = Annotation(labels: j.labels, leak: LeakDecision(suggested: !matches.isEmpty, confirmed: j.leak, matches: matches),
                                                note: j.rationale.isEmpty ? nil : j.rationale)
                    _ = try file.append(.annotation(AnnotationEvent(messageIndex: turn.reply.index, rater: rater, annotation: annotation, raw: lastRaw)))
                    out.labelled += 1
                } else {
                    _ = try file.append(.judgementFailed(JudgementFailedEvent(messageIndex: turn.reply.index, rater: rater,
                                                                              error: lastReason, raw: lastRaw, attempts: asked)))
                    out.failed.append((turn.number, lastReason))
                }
            } catch {
                out.notJudged = "saving to \(file.path) failed: \(error.description)"
                return out
            }
        }
        return out
    }
}
