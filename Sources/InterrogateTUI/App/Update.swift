import Annotate
import Foundation
import Sessions

/// The only place state changes: an action comes in, the new state and the effects to run
/// come out. Pure, so every flow is tested without a terminal.
enum Update {
    static func update(_ s: inout AppState, _ action: Action) -> [Effect] {
        let effects = apply(&s, action)
        keepLayout(&s)
        return effects
    }

    /// Wraps the messages the next frame shows that are not wrapped yet at its width (after
    /// a token, only the reply streaming; after a key, none).
    static func keepLayout(_ s: inout AppState) {
        guard !s.isTooSmall else { return }
        let frame = InterrogationView.frame(s)
        // Taken out while it is filled in, so that it is changed in place, not copied.
        var layout = ConversationLayout()
        swap(&layout, &s.layout)
        layout.keep(for: s, width: frame.textWidth, height: frame.bottom - frame.top)
        if s.showPanel {
            layout.keepPanel(for: s, width: frame.side ? InterrogationView.sidePanelTextWidth(s, left: frame.width + 1) : s.width - 2, side: frame.side)
        }
        s.layout = layout
    }

    private static func apply(_ s: inout AppState, _ action: Action) -> [Effect] {
        switch action {
        case let .resize(w, h):
            (s.width, s.height) = Screen.clamped(width: w, height: h)
            return []
        case .modelReady(let description):
            s.modelStatus = .ready
            s.info.suspect = description
            if s.resendUnanswered {
                s.resendUnanswered = false
                guard s.saveError == nil else { return [] }
                return startReply(&s)
            }
            return []
        case .modelFailed(let message):
            s.modelStatus = .failed(message)
            s.status = .init(kind: .error, text: message)
            return []
        case .saved(let seq):
            s.pendingSaves = max(0, s.pendingSaves - 1)
            s.lastSavedSeq = seq
            return []
        case .saveFailed(let message):
            return saveFailed(&s, message)
        case let .probed(index, saved):
            if s.status?.text == probingText(s, index) {
                s.status = saved ? .init(kind: .info, text: "Probes after reply \(replyNumber(s, index)) saved (on a fork: not part of the conversation).") : nil
            }
            return []
        case .signalsNotSaved(let message):
            s.status = .init(kind: .error, text: "NOT SAVED: \(message). The conversation is saved; this reply's signals are not.")
            return []
        case let .model(id, event, at):
            return modelEvent(&s, id, event, at: at)
        case let .streamStarted(id, at):
            guard var streaming = s.streaming, streaming.id == id, streaming.recorder == nil else { return [] }
            streaming.recorder = ReplyRecorder(startedAt: at)
            s.streaming = streaming
            return []
        case let .streamStopped(id, at):
            guard let streaming = s.streaming, streaming.id == id else { return [] }
            var recorder = streaming.recorder ?? ReplyRecorder(startedAt: at)
            recorder.cancel(at: at)
            var effects = finishReply(&s, recorder)
            if let pending = s.pendingQuit {
                s.pendingQuit = nil
                effects += quit(&s, confirmed: pending.confirmed, reason: pending.reason)
            }
            return effects
        case .key(let key):
            return keyPressed(&s, key)
        case .terminate:
            return quit(&s, confirmed: true, reason: "interrupted")
        }
    }

    // MARK: A failed save

    /// An append failed: from here the screen and the transcript would disagree, so nothing
    /// more is written. A reply still streaming is stopped (it would answer a question the
    /// file may not hold); questions and tags are refused; quitting writes nothing either,
    /// and the command reports the failure on exit. `run --resume` goes on from the file.
    private static func saveFailed(_ s: inout AppState, _ message: String) -> [Effect] {
        s.pendingSaves = max(0, s.pendingSaves - 1)
        if s.saveError == nil { s.saveError = message }
        s.status = .init(kind: .error, text: notSaved(s, "Nothing more is written to the transcript; Ctrl-Q quits."))
        s.resendUnanswered = false
        guard let streaming = s.streaming else { return [] }
        s.turns[streaming.turn].isStreaming = false
        s.turns[streaming.turn].message.status = .cancelled
        s.streaming = nil
        s.pendingQuit = nil
        return [.cancelStream(id: streaming.id)]
    }

    /// The save error's line: what failed, then what it means for what was just asked.
    static func notSaved(_ s: AppState, _ consequence: String) -> String {
        "NOT SAVED: \(s.saveError ?? "unknown error"). \(consequence)"
    }

    // MARK: Model replies

    private static func modelEvent(_ s: inout AppState, _ id: Int, _ event: ChatEvent, at: ContinuousClock.Instant) -> [Effect] {
        // A stream that was cancelled or replaced may still deliver events: drop them.
        guard var streaming = s.streaming, streaming.id == id, !streaming.stopping else { return [] }
        // The runtime reports the start before any event; were it missing, the reply would be
        // timed from its first event rather than from a clock read here.
        var recorder = streaming.recorder ?? ReplyRecorder(startedAt: at)
        recorder.apply(event, at: at)
        streaming.recorder = recorder
        s.turns[streaming.turn].message.text = recorder.text
        if case let .retrying(attempt, after, reason) = event {
            s.status = .init(kind: .warning, text: "\(reason): retry \(attempt) in \(ModelError.format(after)) s")
        }
        s.streaming = streaming
        guard recorder.isFinished else { return [] }
        if let error = recorder.error {
            s.status = .init(kind: .error, text: "The reply failed: \(error.description)")
        } else if case .warning = s.status?.kind {
            s.status = nil
        }
        return finishReply(&s, recorder)
    }

    /// Records the current reply (complete, cancelled or failed) and opens tagging on it.
    private static func finishReply(_ s: inout AppState, _ recorder: ReplyRecorder) -> [Effect] {
        guard let streaming = s.streaming else { return [] }
        let message = recorder.message(index: s.turns[streaming.turn].message.index)
        s.turns[streaming.turn].message = message
        s.turns[streaming.turn].isStreaming = false
        s.streaming = nil
        s.pendingSaves += 1
        var effects: [Effect] = [.append(.message(message))]
        let probes = s.info.probesPerReply > 0 && !message.saidNothing
        if !recorder.logprobs.isEmpty || probes {
            let messages = s.turns.prefix(through: streaming.turn).map(\.message)
            effects.append(.recordSignals(messages: messages, logprobs: recorder.logprobs))
            if probes, s.status == nil || s.status?.kind == .info { s.status = .init(kind: .info, text: probingText(s, message.index)) }
        }
        if message.saidNothing || s.pendingQuit != nil {
            // Nothing to tag: the model said nothing, or the session is ending.
            return effects
        }
        s.mode = .tagging(draft(for: streaming.turn, in: s))
        return effects
    }

    static func probingText(_ s: AppState, _ index: Int) -> String {
        "Asking \(s.info.probesPerReply) probes after reply \(replyNumber(s, index)) on a fork (not part of the conversation)…"
    }

    /// The reply's number as the screen counts them (model turns from 1).
    static func replyNumber(_ s: AppState, _ index: Int) -> Int {
        s.turns.prefix { $0.message.index <= index }.count(where: \.isModel)
    }

    static func draft(for turn: Int, in s: AppState) -> AppState.TagDraft {
        let t = s.turns[turn]
        if let a = t.annotation {
            return .init(messageIndex: t.message.index, labels: a.labels, leak: a.leak, note: a.note ?? "")
        }
        let matches = s.info.scenario.leakDetector.matches(in: t.message.text)
        return .init(messageIndex: t.message.index, labels: LabelSet(),
                     leak: LeakDecision(suggested: !matches.isEmpty, confirmed: !matches.isEmpty, matches: matches), note: "")
    }

    // MARK: Keys

    private static func keyPressed(_ s: inout AppState, _ key: Key) -> [Effect] {
        if let overlay = s.overlay {
            switch overlay {
            case .help:
                s.overlay = nil
                return []
            case .confirmQuit:
                switch key {
                case .char("y"), .char("Y"): return quit(&s, confirmed: true)
                default:
                    s.overlay = nil
                    s.status = .init(kind: .info, text: "Not quitting. Tab tags the latest reply.")
                    return []
                }
            }
        }
        switch key {
        case .ctrl("q"), .ctrl("c"): return quit(&s, confirmed: false)
        case .function(1): s.overlay = .help; return []
        case .function(2): s.showPanel.toggle(); return []
        case .pageUp: s.scroll += max(1, s.height / 2); return []
        case .pageDown: s.scroll = max(0, s.scroll - max(1, s.height / 2)); return []
        case .wheelUp: s.scroll += 3; return []
        case .wheelDown: s.scroll = max(0, s.scroll - 3); return []
        case .ctrl("t"): s.scroll = Int.max / 2; return []
        case .ctrl("b"): s.scroll = 0; return []
        default: break
        }
        switch s.mode {
        case .compose where s.review != nil: return reviewReadingKey(&s, key)
        case .compose: return composeKey(&s, key)
        case .tagging(let d): return taggingKey(&s, d, key)
        case .note(let d, let note): return noteKey(&s, d, note, key)
        }
    }

    private static func composeKey(_ s: inout AppState, _ key: Key) -> [Effect] {
        switch key {
        case .char("?") where s.input.text.isEmpty:
            s.overlay = .help
        case .char(let c):
            s.input.insert(String(c))
            s.sendWarningArmed = false
        case .newline: s.input.insert("\n")
        case .backspace: s.input.backspace()
        case .delete: s.input.delete()
        case .left: s.input.left()
        case .right: s.input.right()
        case .home: s.input.home()
        case .end: s.input.end()
        case .escape:
            if s.streaming != nil { return cancelReply(&s) }
        case .tab:
            if let latest = s.turns.lastIndex(where: \.isTaggable) {
                s.mode = .tagging(draft(for: latest, in: s))
            } else {
                s.status = .init(kind: .info, text: "No reply to tag yet.")
            }
        case .enter:
            return send(&s)
        default: break
        }
        return []
    }

    private static func send(_ s: inout AppState) -> [Effect] {
        guard !s.input.isEmpty else { return [] }
        if s.saveError != nil {
            s.status = .init(kind: .error, text: notSaved(s, "The question is not sent (it is kept in the box); Ctrl-Q quits."))
            return []
        }
        if s.streaming != nil {
            s.status = .init(kind: .warning, text: "A reply is still streaming: wait for it, or press Esc to stop it.")
            return []
        }
        if case .failed(let m) = s.modelStatus {
            s.status = .init(kind: .error, text: "The model is not available: \(m)")
            return []
        }
        if s.modelStatus == .starting {
            s.status = .init(kind: .warning, text: "The model is still starting; your question is kept. Press Enter again in a moment.")
            return []
        }
        if s.questionsAsked >= s.info.scenario.turnLimit {
            s.status = .init(kind: .warning, text: "The scenario's turn limit (\(s.info.scenario.turnLimit) questions) is reached. Tag the replies, then quit with Ctrl-Q.")
            return []
        }
        if let last = s.turns.last, last.isTaggable, !last.isTagged, !s.sendWarningArmed {
            s.sendWarningArmed = true
            s.status = .init(kind: .warning, text: "The last reply is untagged. Press Enter again to send anyway, or Tab to tag it.")
            return []
        }
        s.sendWarningArmed = false
        let question = MessageEvent(index: s.turns.count, role: .interrogator, text: s.input.text)
        s.turns.append(.init(message: question))
        s.input.clear()
        s.status = nil
        s.pendingSaves += 1
        return [.append(.message(question))] + startReply(&s)
    }

    /// Asks the model to answer the conversation so far.
    private static func startReply(_ s: inout AppState) -> [Effect] {
        s.scroll = 0
        // The system prompt is added by the effect that sends it: the screen never holds it.
        let request = Prompting.conversation(s.turns.map(\.message))
        let id = s.nextStreamId
        s.nextStreamId += 1
        s.turns.append(.init(message: MessageEvent(index: s.turns.count, role: .model, text: "", status: nil), isStreaming: true))
        s.streaming = .init(id: id, recorder: nil, turn: s.turns.count - 1)
        return [.startStream(id: id, request)]
    }

    /// Asks the runtime to stop the reply; it is recorded (as cancelled, with the text so far)
    /// when the runtime reports it stopped.
    private static func cancelReply(_ s: inout AppState) -> [Effect] {
        guard var streaming = s.streaming, !streaming.stopping else { return [] }
        streaming.stopping = true
        s.streaming = streaming
        s.status = .init(kind: .info, text: "Reply stopped; the text so far is kept and marked cancelled.")
        return [.cancelStream(id: streaming.id)]
    }

    private static func taggingKey(_ s: inout AppState, _ d: AppState.TagDraft, _ key: Key) -> [Effect] {
        var d = d
        switch key {
        case .char(let c) where Label.forKey(c) != nil:
            d.labels.toggle(Label.forKey(c)!)
            s.mode = .tagging(d)
        case .char("l"):
            d.leak.confirmed.toggle()
            s.mode = .tagging(d)
        case .char("n"):
            var note = TextInput()
            note.insert(d.note)
            s.mode = .note(d, note)
        case .char("?"):
            s.overlay = .help
        case .up, .char("k"):
            moveSelection(&s, d, by: -1)
        case .down, .char("j"):
            moveSelection(&s, d, by: 1)
        case .escape, .tab:
            s.mode = .compose
            if s.review != nil { s.status = .init(kind: .info, text: "Reading: PgUp/PgDn scroll, Tab goes back to tagging.") }
        case .enter:
            if s.saveError != nil {
                s.status = .init(kind: .error, text: notSaved(s, "These tags are not saved; Ctrl-Q quits."))
                return []
            }
            guard !d.labels.isEmpty else {
                s.status = .init(kind: .warning, text: "Choose at least one label (c r d t f) before saving, or Esc to leave it untagged.")
                return []
            }
            let annotation = Annotation(labels: d.labels, leak: d.leak, note: d.note.isEmpty ? nil : d.note)
            if let i = s.turns.firstIndex(where: { $0.message.index == d.messageIndex }) { s.turns[i].annotation = annotation }
            s.mode = .compose
            s.sendWarningArmed = false
            s.pendingSaves += 1
            s.status = nil
            if s.review != nil { nextInReview(&s) }
            return [.append(.annotation(AnnotationEvent(messageIndex: d.messageIndex, rater: s.info.annotator, annotation: annotation)))]
        default: break
        }
        return []
    }

    private static func moveSelection(_ s: inout AppState, _ d: AppState.TagDraft, by step: Int) {
        let replies = s.visibleTurns.indices.filter { s.isTaggable(at: $0) }
        guard let current = replies.firstIndex(where: { s.turns[$0].message.index == d.messageIndex }) else { return }
        let next = current + step
        if next == replies.count, s.review != nil {
            // Past the last reply on screen: a reviewer moves on to the next one unseen.
            if let revealed = revealNext(&s) { s.mode = .tagging(draft(for: revealed, in: s)) }
            return
        }
        guard replies.indices.contains(next) else { return }
        s.mode = .tagging(draft(for: replies[next], in: s))
    }

    // MARK: Blind review

    /// Opens a review: shows the turns up to the first reply the reviewer has not labelled
    /// (all of them when the review is complete) and starts tagging it.
    static func startReview(_ s: inout AppState) {
        let firstOpen = s.turns.indices.first { s.turns[$0].isTaggable && !s.turns[$0].isTagged }
        // Everything before the first unlabelled reply was seen in an earlier sitting.
        s.review = .init(revealed: firstOpen ?? s.turns.count)
        s.modelStatus = .ready
        nextInReview(&s)
        if s.mode == .compose { s.status = .init(kind: .info, text: "This review is complete: all \(s.taggableCount) replies are labelled. ↑/↓ after Tab re-tags one; Ctrl-Q ends.") }
        keepLayout(&s)
    }

    /// After a save: tag the first unlabelled reply on screen, else reveal the next one.
    private static func nextInReview(_ s: inout AppState) {
        if let i = s.visibleTurns.indices.first(where: { s.turns[$0].isTaggable && !s.turns[$0].isTagged }) {
            s.mode = .tagging(draft(for: i, in: s))
        } else if let i = revealNext(&s) {
            s.mode = .tagging(draft(for: i, in: s))
        } else {
            s.mode = .compose
            s.status = .init(kind: .info, text: "All \(s.taggableCount) replies are reviewed and saved. Ctrl-Q ends the review.")
        }
    }

    /// Shows the turns up to and including the next reply to rate; returns its turn index, or
    /// nil (everything shown) when none is left.
    private static func revealNext(_ s: inout AppState) -> Int? {
        guard let review = s.review else { return nil }
        s.scroll = 0
        if let next = s.turns.indices.first(where: { $0 >= review.revealed && s.turns[$0].isTaggable }) {
            s.review?.revealed = next + 1
            return next
        }
        s.review?.revealed = s.turns.count
        return nil
    }

    private static func reviewReadingKey(_ s: inout AppState, _ key: Key) -> [Effect] {
        switch key {
        case .char("?"): s.overlay = .help
        case .tab, .enter, .down, .char("j"):
            let before = s.mode
            nextInReview(&s)
            if s.mode == before, let last = s.visibleTurns.indices.last(where: { s.turns[$0].isTaggable }) {
                s.mode = .tagging(draft(for: last, in: s))
            }
        default: break
        }
        return []
    }

    private static func noteKey(_ s: inout AppState, _ d: AppState.TagDraft, _ note: TextInput, _ key: Key) -> [Effect] {
        var note = note
        var d = d
        switch key {
        case .enter, .escape:
            d.note = note.text
            s.mode = .tagging(d)
            return []
        case .char(let c): note.insert(String(c))
        case .backspace: note.backspace()
        case .delete: note.delete()
        case .left: note.left()
        case .right: note.right()
        case .home: note.home()
        case .end: note.end()
        default: break
        }
        s.mode = .note(d, note)
        return []
    }

    private static func quit(_ s: inout AppState, confirmed: Bool, reason: String = "quit") -> [Effect] {
        if s.streaming != nil {
            // The partial reply is recorded first, once the runtime reports it stopped; the
            // quit goes on from there (`streamStopped`).
            if s.pendingQuit?.confirmed != true { s.pendingQuit = .init(confirmed: confirmed, reason: reason) }
            s.mode = .compose
            return cancelReply(&s)
        }
        if s.saveError != nil {
            // Nothing more is written, not even the session's end: the file stays as it was
            // when the save failed, and the command reports the failure on exit.
            s.overlay = nil
            s.quitting = true
            return [.quit]
        }
        let effects: [Effect] = []
        let untagged = s.untaggedCount
        if untagged > 0 && !confirmed {
            s.overlay = .confirmQuit(untagged: untagged)
            return effects
        }
        s.overlay = nil
        s.quitting = true
        s.pendingSaves += 1
        return effects + [.append(.sessionEnd(.init(reason: reason))), .quit]
    }
}
