import Annotate
import Sessions

/// Everything the interrogation screen shows, as one value.
struct AppState: Equatable, Sendable {
    /// What the screen may show of the session. Blindness is what the screen is given: in a
    /// study it holds the alias, never the model, and no condition; the system prompt (which
    /// differs by condition) stays with the effects that send requests.
    struct Info: Equatable, Sendable {
        var sessionId: String
        var scenario: Scenario
        /// Shown only outside a study.
        var condition: Scenario.Condition?
        var annotator: String
        /// Who is questioned, as the screen names it: "provider model", or a study's alias.
        var suspect: String
        /// Probe questions asked after each reply on a fork (0: none).
        var probesPerReply = 0

        init(sessionId: String, scenario: Scenario, condition: Scenario.Condition, annotator: String, model: ModelDescription) {
            self.sessionId = sessionId
            self.scenario = scenario
            self.condition = condition
            self.annotator = annotator
            suspect = Self.shown(model)
        }

        /// A study session: the alias only.
        init(sessionId: String, scenario: Scenario, annotator: String, alias: String) {
            self.sessionId = sessionId
            self.scenario = scenario
            condition = nil
            self.annotator = annotator
            suspect = alias
        }

        static func shown(_ model: ModelDescription) -> String { "\(model.provider) \(model.name)" }
    }

    /// One message of the conversation, with the annotator's latest tags for a model reply.
    struct Turn: Equatable, Sendable {
        var message: MessageEvent
        var annotation: Annotation?
        var isStreaming = false

        var isModel: Bool { message.role == .model }
        var isTaggable: Bool { message.isRatable && !isStreaming }
        var isTagged: Bool { !(annotation?.labels.isEmpty ?? true) }
    }

    struct Streaming: Equatable, Sendable {
        var id: Int
        /// Made when the runtime reports the request sent (`streamStarted`), with that instant.
        var recorder: ReplyRecorder?
        var turn: Int
        /// Esc or a quit asked the runtime to stop it; it is recorded when the runtime says
        /// it stopped (`streamStopped`), and later events are dropped.
        var stopping = false
    }

    /// A quit that waits for the streaming reply to be stopped and recorded first.
    struct PendingQuit: Equatable, Sendable {
        var confirmed: Bool
        var reason: String
    }

    struct TagDraft: Equatable, Sendable {
        var messageIndex: Int
        var labels: LabelSet
        var leak: LeakDecision
        var note: String
    }

    enum Mode: Equatable, Sendable {
        case compose
        case tagging(TagDraft)
        case note(TagDraft, TextInput)
    }

    enum Overlay: Equatable, Sendable {
        case help
        case confirmQuit(untagged: Int)
    }

    /// A blind review replays a recorded session: no model, no question box, and the turns
    /// are revealed one reply at a time so that the reviewer reads them as they unfolded.
    struct Review: Equatable, Sendable {
        /// How many turns (from the start) are on screen.
        var revealed = 0
    }

    enum ModelStatus: Equatable, Sendable {
        case starting, ready, failed(String)
    }

    struct Status: Equatable, Sendable {
        enum Kind: Sendable { case info, warning, error }
        var kind: Kind
        var text: String
    }

    var info: Info
    var width: Int
    var height: Int
    var turns: [Turn] = []
    var streaming: Streaming?
    var nextStreamId = 1
    var input = TextInput()
    var mode: Mode = .compose
    var overlay: Overlay?
    var status: Status?
    var modelStatus: ModelStatus = .starting
    /// Lines scrolled up from the end of the conversation; 0 follows the newest text.
    var scroll = 0
    var showPanel = true
    var pendingSaves = 0
    var lastSavedSeq: Int?
    var saveError: String?
    /// The last reply is untagged and Enter was pressed once: the next Enter sends anyway.
    var sendWarningArmed = false
    var quitting = false
    var pendingQuit: PendingQuit?
    /// Resumed with a question that has no saved reply (the app died mid-reply): ask again
    /// once the model is ready.
    var resendUnanswered = false
    /// Set when the screen reviews a recorded session instead of interrogating a model.
    var review: Review?
    /// The messages wrapped to the screen, kept by `update` so that frames do not wrap them again.
    var layout = ConversationLayout()

    init(info: Info, width: Int, height: Int) {
        self.info = info
        self.width = width
        self.height = height
    }

    static let minimumWidth = 80
    static let minimumHeight = 24
    var isTooSmall: Bool { width < Self.minimumWidth || height < Self.minimumHeight }

    /// The turns on screen: all of them live, the revealed ones in a review.
    var visibleTurns: ArraySlice<Turn> { review.map { turns.prefix(max(0, $0.revealed)) } ?? turns[...] }
    var taggableCount: Int { countTurns { isTaggable(at: $0) } }

    var questionsAsked: Int { countTurns { turns[$0].message.role == .interrogator } }
    var untaggedReplies: [Int] { turns.filter { $0.isTaggable && !$0.isTagged }.map(\.message.index) }
    var untaggedCount: Int { countTurns { isTaggable(at: $0) && !isTagged(at: $0) } }

    // The screen counts turns on every frame. These read a turn's stored fields where it lies:
    // a turn's own computed properties, called in a loop, copy it (retaining every field),
    // which thousands of turns make felt.

    /// How many turns (of `range`, else all) pass `test`, given each one's index.
    func countTurns(_ range: Range<Int>? = nil, where test: (Int) -> Bool) -> Int { (range ?? turns.indices).count(where: test) }
    /// The index of the first turn (of `range`, else all) that passes `test`.
    func firstTurn(_ range: Range<Int>? = nil, where test: (Int) -> Bool) -> Int? { (range ?? turns.indices).first(where: test) }
    /// `turns[i].isModel`, in place.
    func isModel(at i: Int) -> Bool { turns[i].message.role == .model }
    /// `turns[i].isTaggable`, in place (`MessageEvent.isRatable`: a model reply that said something or did not fail).
    func isTaggable(at i: Int) -> Bool {
        turns[i].message.role == .model && !turns[i].isStreaming && !(turns[i].message.status == .error && turns[i].message.text.isEmpty)
    }
    /// `turns[i].isTagged`, in place.
    func isTagged(at i: Int) -> Bool { !(turns[i].annotation?.labels.isEmpty ?? true) }

    /// The message index being tagged (or whose note is being written).
    var taggedIndex: Int? {
        switch mode {
        case .compose: nil
        case .tagging(let d), .note(let d, _): d.messageIndex
        }
    }
}
