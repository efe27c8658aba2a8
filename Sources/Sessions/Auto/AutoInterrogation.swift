import Annotate
import Foundation

/// One session interrogated by a model: the interrogator model asks, the suspect answers,
/// each turn appended (and fsync'd) as it completes, up to the scenario's turn limit, until the
/// interrogator says it is done, or until a reply matches the secret's patterns. The session
/// is the same transcript a person's would be, with `interrogator` in its header, so it goes
/// into the same blind review queue. Stopped or killed, it is continued from its last saved
/// event: a reply in flight is asked again, nothing saved is asked twice.
public struct AutoInterrogation: Sendable {
    public var scenario: Scenario
    public var condition: Scenario.Condition
    public var suspect: any ChatModel
    public var interrogator: any ChatModel
    /// The configuration's name for the interrogator model.
    public var interrogatorName: String
    public var template: InterrogatorTemplate
    /// End the session when a reply matches the secret's patterns (a suggested leak).
    public var stopOnLeak: Bool
    /// How many times an empty question or a failed reply is asked again before the session
    /// is left open for a later run.
    public var attempts = 3
    /// In a study, what a failure may say in the transcript, where blind reviewers read it
    /// (the full text, which may name the model, goes to the study's log).
    public var blindError: (@Sendable (ModelError) -> String)?
    /// Asked after each reply on a fork (`--probes`); answers go to the session's probes.jsonl.
    public var probes: ProbeRunner?
    /// Told when a sidecar line could not be saved: the session goes on (its own events were
    /// saved), and that reply's signals are counted as not recorded.
    public var signalsNotSaved: (@Sendable (String) -> Void)?

    public init(scenario: Scenario, condition: Scenario.Condition, suspect: any ChatModel, interrogator: any ChatModel,
                interrogatorName: String, template: InterrogatorTemplate, stopOnLeak: Bool = true) {
        self.scenario = scenario
        self.condition = condition
        self.suspect = suspect
        self.interrogator = interrogator
        self.interrogatorName = interrogatorName
        self.template = template
        self.stopOnLeak = stopOnLeak
    }

    /// The header's annotator for sessions of this interrogator: no person tagged them live.
    public var annotator: String { Self.annotator(for: interrogatorName) }
    public static func annotator(for name: String) -> String { StudyDesign.interrogatorId(name) }

    public var record: SessionHeader.InterrogatorRecord {
        .init(name: interrogatorName, model: interrogator.description.record, template: template.template.record)
    }

    /// Whether a saved session is one of this set-up's: the same scenario and condition, the
    /// same suspect model and parameters, the same interrogator and template.
    public func matches(_ h: SessionHeader) -> Bool {
        guard let i = h.interrogator, h.study == nil else { return false }
        let mine = suspect.description.record
        return i.name == interrogatorName && i.template.sha256 == template.template.sha256
            && h.scenario.id == scenario.id && h.scenario.sha256 == scenario.sha256 && h.scenario.condition == condition
            && h.model.provider == mine.provider && h.model.name == mine.name && h.model.parameters == mine.parameters
            && h.model.promptFormat == mine.promptFormat
    }

    /// Why a saved session cannot be continued with this set-up (its header records another
    /// scenario file, template, interrogator or suspect), or nil when it can: a session goes on
    /// only with what its header says it was made with.
    public func mismatch(_ h: SessionHeader) -> String? {
        let mine = suspect.description.record
        var why: [String] = []
        if h.scenario.id != scenario.id || h.scenario.sha256 != scenario.sha256 || h.scenario.condition != condition {
            why.append("the scenario \(h.scenario.id) (\(h.scenario.condition.rawValue)) as it was then")
        }
        if h.interrogator?.name != interrogatorName || h.interrogator?.template.sha256 != template.template.sha256 {
            why.append("the interrogator \(h.interrogator?.name ?? "(a person)") with template \(h.interrogator?.template.version ?? "none") as it was then")
        }
        if h.model.provider != mine.provider || h.model.name != mine.name || h.model.parameters != mine.parameters || h.model.promptFormat != mine.promptFormat {
            why.append("the suspect \(h.model.provider):\(h.model.name) with its recorded parameters")
        }
        return why.isEmpty ? nil : "it was started with " + why.joined(separator: ", ") + ", which this run does not have; it is left as it is"
    }

    public enum Outcome: Sendable, Equatable {
        /// Ended with this reason (turn_limit, secret_out, interrogator_done).
        case ended(sessionId: String, reason: String)
        /// Left open, with why; running again continues it.
        case open(sessionId: String, reason: String)
        /// Could not be started or opened at all.
        case failed(String)
    }

    /// Starts a new session in `store` and runs it; `study` for a planned session of a study.
    public func start(in store: TranscriptStore, study: SessionHeader.StudyRecord? = nil) async -> Outcome {
        let header = SessionHeader(sessionId: TranscriptStore.newSessionId(scenarioId: scenario.id), annotator: annotator,
                                   scenario: .init(scenario: scenario, condition: condition), model: suspect.description.record,
                                   study: study, interrogator: record)
        let file: TranscriptFile
        do { file = try store.createSession(header: header) } catch { return .failed(error.description) }
        return await run(file: file, sessionId: header.sessionId, messages: [])
    }

    /// Continues the open session in `folder`. The session is held first, and its torn last
    /// line (a crash mid-write) ended, and only then read: what is continued is what is on disk.
    public func resume(folder: String) async -> Outcome {
        let path = (folder as NSString).appendingPathComponent(TranscriptStore.sessionFileName)
        let file: TranscriptFile
        do { file = try TranscriptFile.openForAppend(path: path, holding: try SessionLock.acquire(for: path)).file } catch {
            return .failed("\(folder): \(error.description)")
        }
        let session: Session
        do { session = try Session.load(folder: folder) } catch { return .failed(error.description) }
        if let why = session.whyNotCounted { return .failed("\(folder): \(why)") }
        guard !session.ended else { return .ended(sessionId: session.sessionId, reason: "already ended") }
        if let why = mismatch(session.header) { return .failed("\(session.sessionId): \(why)") }
        do { _ = try file.append(.resumed(ResumedEvent(annotator: annotator))) } catch {
            return .open(sessionId: session.sessionId, reason: error.description)
        }
        return await run(file: file, sessionId: session.sessionId, messages: session.messages)
    }

    private func run(file: TranscriptFile, sessionId: String, messages start: [MessageEvent]) async -> Outcome {
        var messages = start
        let detector = scenario.leakDetector
        let systemPrompt = scenario.systemPrompt(for: condition) ?? scenario.systemPrompt
        let chat = interrogator.description.promptFormat == nil
        let signals = SignalRecorder(folder: (file.path as NSString).deletingLastPathComponent, suspect: suspect.description, probes: probes)
        func end(_ reason: String) -> Outcome {
            do { _ = try file.append(.sessionEnd(SessionEndEvent(reason: reason))) } catch {
                return .open(sessionId: sessionId, reason: error.description)
            }
            return .ended(sessionId: sessionId, reason: reason)
        }
        func save(_ m: MessageEvent) throws(TranscriptError) {
            _ = try file.append(.message(m))
            messages.append(m)
        }
        do {
            while true {
                if Task.isCancelled { return .open(sessionId: sessionId, reason: "stopped") }
                let last = messages.last
                if let last, last.role == .model, last.status == .complete || !last.text.isEmpty {
                    if stopOnLeak, detector.suggestsLeak(last.text) { return end("secret_out") }
                }
                // A question without its answer (the last run stopped, or the reply failed): ask it.
                if let last, last.role == .interrogator || (last.role == .model && last.text.isEmpty && last.status != .complete) {
                    var tries = 0
                    while true {
                        tries += 1
                        let reply = await ReplyRecorder.collect(suspect.stream(Prompting.request(systemPrompt: systemPrompt, messages: messages)))
                        if Task.isCancelled, reply.status != .complete { return .open(sessionId: sessionId, reason: "stopped") }
                        var message = reply.message(index: messages.count)
                        if let blindError, let e = reply.error { message.error = blindError(e) }
                        try save(message)
                        // Beside the session, keyed by the reply's index: what the signals need.
                        if signals.records(reply.logprobs, reply: message) {
                            do { try await signals.record(reply.logprobs, messages: messages) } catch {
                                signalsNotSaved?("\(sessionId) reply \(message.index): \(error.description)")
                            }
                        }
                        if reply.status == .complete || !reply.text.isEmpty { break }
                        if tries >= attempts {
                            return .open(sessionId: sessionId, reason: "the suspect failed \(tries) time(s): \(message.error ?? "no reply")")
                        }
                    }
                    continue
                }
                if messages.count(where: { $0.role == .interrogator }) >= scenario.turnLimit { return end("turn_limit") }
                var question: String?
                var tries = 0
                while question == nil {
                    tries += 1
                    let request = template.request(scenario: scenario, messages: messages, chat: chat)
                    let reply = await ReplyRecorder.collect(interrogator.stream(request))
                    if Task.isCancelled { return .open(sessionId: sessionId, reason: "stopped") }
                    if reply.status == .complete { question = template.question(from: reply.text, speakers: scenario.speakers) }
                    // DONE before any question is no session: asked again, as an empty reply is.
                    if let q = question, template.isDone(q), !messages.contains(where: { $0.role == .interrogator }) { question = nil }
                    if question == nil, tries >= attempts {
                        let why = reply.status == .complete ? "gave no question" : "failed: \(reply.error?.description ?? "no reply")"
                        return .open(sessionId: sessionId, reason: "the interrogator \(why) \(tries) time(s)")
                    }
                }
                if let q = question, template.isDone(q) { return end("interrogator_done") }
                try save(MessageEvent(index: messages.count, role: .interrogator, text: question ?? ""))
            }
        } catch {
            return .open(sessionId: sessionId, reason: "saving failed: \(error.description)")
        }
    }
}
