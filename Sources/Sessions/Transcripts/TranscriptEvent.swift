import Annotate
import Foundation

/// One line of a transcript file: a self-describing event with the format version, its
/// sequence number in the file and the time it was written.
public struct TranscriptEvent: Sendable, Equatable {
    public static let formatVersion = 1

    public var version: Int
    public var seq: Int
    public var timestamp: Date
    public var body: EventBody

    public init(version: Int = TranscriptEvent.formatVersion, seq: Int, timestamp: Date, body: EventBody) {
        self.version = version
        self.seq = seq
        self.timestamp = timestamp
        self.body = body
    }
}

public enum EventBody: Sendable, Equatable {
    /// Headers are boxed: they are many times the size of any other event, and every event
    /// of a study is moved several times while it is read.
    indirect case header(SessionHeader)
    case message(MessageEvent)
    case annotation(AnnotationEvent)
    case resumed(ResumedEvent)
    case recovery(RecoveryEvent)
    case sessionEnd(SessionEndEvent)
    indirect case review(ReviewHeader)
    case adjudication(AdjudicationEvent)
    /// A model judge's reply for a turn that gave no usable label, kept with why.
    case judgementFailed(JudgementFailedEvent)
    /// A type this version does not know (written by a newer version); kept, not dropped.
    case unknown(type: String)

    public var type: String {
        switch self {
        case .header: "header"
        case .message: "message"
        case .annotation: "annotation"
        case .resumed: "resumed"
        case .recovery: "recovery"
        case .sessionEnd: "session_end"
        case .review: "review"
        case .adjudication: "adjudication"
        case .judgementFailed: "judgement_failed"
        case .unknown(let t): t
        }
    }
}

/// The first event of a session file: everything needed to reproduce the session.
/// API keys are never part of it.
public struct SessionHeader: Sendable, Equatable, Codable {
    public struct App: Sendable, Equatable, Codable {
        public var name: String
        public var version: String
        public init(name: String = "interrogate", version: String = AppVersion.current) {
            self.name = name
            self.version = version
        }
    }

    public struct ScenarioRecord: Sendable, Equatable, Codable {
        public var id: String
        public var title: String
        public var path: String
        public var sha256: String
        /// The scenario file exactly as read, so the session can be reproduced without it.
        public var content: String
        public var condition: Scenario.Condition
        /// The system prompt as sent to the model in this condition.
        public var systemPrompt: String

        public init(id: String, title: String, path: String, sha256: String, content: String,
                    condition: Scenario.Condition, systemPrompt: String) {
            self.id = id
            self.title = title
            self.path = path
            self.sha256 = sha256
            self.content = content
            self.condition = condition
            self.systemPrompt = systemPrompt
        }

        public init(scenario: Scenario, condition: Scenario.Condition) {
            id = scenario.id
            title = scenario.title
            path = scenario.path
            sha256 = scenario.sha256
            content = scenario.source
            self.condition = condition
            systemPrompt = scenario.systemPrompt(for: condition) ?? scenario.systemPrompt
        }
    }

    public struct ModelRecord: Sendable, Equatable, Codable {
        public var provider: String
        public var name: String
        public var baseUrl: String?
        public var parameters: ModelParameters
        /// Absent for a chat; for a base model continuing a written transcript, its format.
        public var promptFormat: String?

        public init(provider: String, name: String, baseUrl: String? = nil, parameters: ModelParameters = .init(), promptFormat: String? = nil) {
            self.provider = provider
            self.name = name
            self.baseUrl = baseUrl
            self.parameters = parameters
            self.promptFormat = promptFormat
        }
    }

    /// What a study session records of its study: the task it answers, the alias people were
    /// shown instead of the model, and for a gold session the script's replies with their labels.
    public struct StudyRecord: Sendable, Equatable, Codable {
        /// One reply of a gold session's script, as it was when the session started.
        public struct GoldReply: Sendable, Equatable, Codable {
            public var text: String
            public var labels: LabelSet
            public var leak: Bool
            public init(text: String, labels: LabelSet, leak: Bool) {
                self.text = text
                self.labels = labels
                self.leak = leak
            }
        }

        public var name: String
        public var task: String
        public var alias: String
        /// The study's name for the model (from the model configuration), which reports group
        /// by; nil in gold sessions.
        public var model: String?
        /// Present only in gold sessions (scripted suspects used to measure annotators).
        public var gold: [GoldReply]?

        public init(name: String, task: String, alias: String, model: String? = nil, gold: [GoldReply]? = nil) {
            self.name = name
            self.task = task
            self.alias = alias
            self.model = model
            self.gold = gold
        }

        public var isGold: Bool { gold != nil }
    }

    /// Who asked the questions when it was not the annotator: a model interrogator, with the
    /// prompt template it was given.
    public struct InterrogatorRecord: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable { case model }
        public var kind: Kind
        /// The configuration's name for the interrogator model (`local`, `gpt`, …).
        public var name: String
        public var model: ModelRecord
        public var template: PromptFile

        public init(kind: Kind = .model, name: String, model: ModelRecord, template: PromptFile) {
            self.kind = kind
            self.name = name
            self.model = model
            self.template = template
        }

        /// How reports name this interrogator: the kind and the configuration's name.
        public var id: String { "\(kind.rawValue):\(name)" }
    }

    public var sessionId: String
    public var app: App
    public var annotator: String
    public var scenario: ScenarioRecord
    public var model: ModelRecord
    /// Nil outside a study.
    public var study: StudyRecord?
    /// Nil when the annotator interrogated (a person at the keyboard).
    public var interrogator: InterrogatorRecord?
    /// True in a blind copy that a team store gave a reviewer (`store pull` into this machine's
    /// copy): only what the server lets her read, with the model, the condition and the prompt
    /// as sent withheld. Read for review; never counted, run or pushed.
    public var blindCopy: Bool?

    public init(sessionId: String, app: App = .init(), annotator: String, scenario: ScenarioRecord, model: ModelRecord,
                study: StudyRecord? = nil, interrogator: InterrogatorRecord? = nil, blindCopy: Bool? = nil) {
        self.sessionId = sessionId
        self.app = app
        self.annotator = annotator
        self.scenario = scenario
        self.model = model
        self.study = study
        self.interrogator = interrogator
        self.blindCopy = blindCopy
    }

    public var isBlindCopy: Bool { blindCopy == true }

    /// Who asked: `model:NAME` for a model interrogator, else the annotator.
    public var interrogatorId: String { interrogator?.id ?? annotator }
}

/// A prompt kept in the repository (an interrogator template, a judge rubric) as it was used:
/// where it was read, its version and the sha256 of its bytes.
public struct PromptFile: Sendable, Equatable, Codable {
    public var path: String
    public var version: String
    public var sha256: String
    public init(path: String, version: String, sha256: String) {
        self.path = path
        self.version = version
        self.sha256 = sha256
    }
}

/// Parameters that shape a reply. Each is recorded as sent; nil means the server's default.
public struct ModelParameters: Sendable, Hashable, Codable {
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    public var seed: Int?
    public var stop: [String]?
    public var logprobs: Bool?
    public var topLogprobs: Int?

    public init(temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil, seed: Int? = nil,
                stop: [String]? = nil, logprobs: Bool? = nil, topLogprobs: Int? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
        self.stop = stop
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
    }
}

public struct MessageEvent: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable { case interrogator, model }
    public enum Status: String, Sendable, Codable, CaseIterable {
        case complete
        /// The interrogator stopped the reply; `text` holds what had arrived.
        case cancelled
        /// The model endpoint failed; `text` holds what had arrived, `error` says why.
        case error
    }

    public struct Usage: Sendable, Equatable, Codable {
        public var promptTokens: Int?
        public var completionTokens: Int?
        public init(promptTokens: Int? = nil, completionTokens: Int? = nil) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
        }
    }

    /// Position in the conversation, from 0. Annotations refer to model messages by it.
    public var index: Int
    public var role: Role
    public var text: String
    public var status: Status?
    public var reasoning: String?
    public var finishReason: String?
    public var error: String?
    /// The model name the server reported for this reply.
    public var modelReported: String?
    public var firstTokenMs: Double?
    public var totalMs: Double?
    public var usage: Usage?

    /// A reply that failed before any text: it said nothing, so there is nothing to rate.
    public var saidNothing: Bool { role == .model && status == .error && text.isEmpty }

    /// A model reply that can be rated.
    public var isRatable: Bool { role == .model && !saidNothing }

    public init(index: Int, role: Role, text: String, status: Status? = nil, reasoning: String? = nil,
                finishReason: String? = nil, error: String? = nil, modelReported: String? = nil,
                firstTokenMs: Double? = nil, totalMs: Double? = nil, usage: Usage? = nil) {
        self.index = index
        self.role = role
        self.text = text
        self.status = status
        self.reasoning = reasoning
        self.finishReason = finishReason
        self.error = error
        self.modelReported = modelReported
        self.firstTokenMs = firstTokenMs
        self.totalMs = totalMs
        self.usage = usage
    }
}

/// A rater's labels for one model message. A later one for the same message and rater
/// supersedes this; both stay in the file.
public struct AnnotationEvent: Sendable, Equatable, Codable {
    public var messageIndex: Int
    public var rater: String
    public var labels: LabelSet
    /// The most severe label, written for readers that do not know the order.
    public var primary: Label?
    public var leak: LeakDecision
    public var note: String?
    /// A model judge's reply exactly as it came, from which the labels were read.
    public var raw: String?

    public init(messageIndex: Int, rater: String, annotation: Annotation, raw: String? = nil) {
        self.messageIndex = messageIndex
        self.rater = rater
        labels = annotation.labels
        primary = annotation.primary
        leak = annotation.leak
        note = annotation.note
        self.raw = raw
    }

    public var annotation: Annotation { Annotation(labels: labels, leak: leak, note: note) }
}

/// The session was reopened (after a quit or a crash) and continues from here.
public struct ResumedEvent: Sendable, Equatable, Codable {
    public var app: SessionHeader.App
    public var annotator: String
    public init(app: SessionHeader.App = .init(), annotator: String) {
        self.app = app
        self.annotator = annotator
    }
}

/// A writer found the file's last line torn (a crash mid-write) and ended it with a newline
/// before appending, so that the fragment stays on disk, visible, and new events stay whole.
public struct RecoveryEvent: Sendable, Equatable, Codable {
    public var tornLine: Int
    public var tornBytes: Int
    public init(tornLine: Int, tornBytes: Int) {
        self.tornLine = tornLine
        self.tornBytes = tornBytes
    }
}

/// A model judge gave no usable label for a turn after every attempt: the reason and its last
/// reply are kept, and no label is guessed. Judging again tries the turn again.
public struct JudgementFailedEvent: Sendable, Equatable, Codable {
    public var messageIndex: Int
    public var rater: String
    public var error: String
    /// The judge's last reply, when there was one.
    public var raw: String?
    public var attempts: Int

    public init(messageIndex: Int, rater: String, error: String, raw: String?, attempts: Int) {
        self.messageIndex = messageIndex
        self.rater = rater
        self.error = error
        self.raw = raw
        self.attempts = attempts
    }
}

public struct SessionEndEvent: Sendable, Equatable, Codable {
    /// Why it ended: `quit`, `turn_limit`, …
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

public enum AppVersion {
    public static let current = "0.1.0"
}
