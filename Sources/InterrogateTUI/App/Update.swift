import Annotate
import Foundation
import Sessions

/// The only place state changes: an action comes in, the new state and the effects to run
/// come out. Pure, so every flow is tested without a terminal.
enum Update {
    static func update(_ s: inout AppState, _ action: Action) -> [Effect] {
        switch action {
        case let .resize(w, h):
            s.width = w
            s.height = h
            return []
        case .modelReady(let description):
            s.modelStatus = .ready
            s.info.model = description
            if s.resendUnanswered {
                s.resendUnanswered = false
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
            s.pendingSaves = max(0, s.pendingSaves - 1)
            s.saveError = message
            s.status = .init(kind: .error, text: "NOT SAVED: \(message)")
            return []
        case let .model(id, event):
            return modelEvent(&s, id, event)
        case .key(let key):
            return keyPressed(&s, key)
        case .terminate:
            return quit(&s, confirmed: true, reason: "interrupted")
        }
    }

    // MARK: Model replies

    private static func modelEvent(_ s: inout AppState, _ id: Int, _ event: ChatEvent) -> [Effect] {
        // A stream that was cancelled or replaced may still deliver events: drop them.
        guard var streaming = s.streaming, streaming.id == id else { return [] }
        streaming.recorder.apply(event)
        s.turns[streaming.turn].message.text = streaming.recorder.text
        if case let .retrying(attempt, after, reason) = event {
            s.status = .init(kind: .warning, text: "\(reason): retry \(attempt) in \(ModelError.format(after)) s")
        }
        s.streaming = streaming
        guard streaming.recorder.isFinished else { return [] }
        if let error = streaming.recorder.error {
            s.status = .init(kind: .error, text: "The reply failed: \(error.description)")
        } else if case .warning = s.status?.kind {
            s.status = nil
        }
        return finishReply(&s)
    }

    /// Records the current reply (complete, cancelled or failed) and opens tagging on it.
    private static func finishReply(_ s: inout AppState) -> [Effect] {
        guard let streaming = s.streaming else { return [] }
        let message = streaming.recorder.message(index: s.turns[streaming.turn].message.index)
        s.turns[streaming.turn].message = message
        s.turns[streaming.turn].isStreaming = false
        s.streaming = nil
        s.pendingSaves += 1
        var effects: [Effect] = [.append(.message(message))]
        if message.text.isEmpty && message.status == .error {
            // Nothing to tag: the model said nothing.
            return effects
        }
        s.mode = .tagging(draft(for: streaming.turn, in: s))
        return effects
    }

    private static func draft(for turn: Int, in s: AppState) -> AppState.TagDraft {
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
        let request = Prompting.request(systemPrompt: s.info.systemPrompt, messages: s.turns.map(\.message))
        let id = s.nextStreamId
        s.nextStreamId += 1
        s.turns.append(.init(message: MessageEvent(index: s.turns.count, role: .model, text: "", status: nil), isStreaming: true))
        s.streaming = .init(id: id, recorder: ReplyRecorder(), turn: s.turns.count - 1)
        return [.startStream(id: id, request)]
    }

    private static func cancelReply(_ s: inout AppState) -> [Effect] {
        guard var streaming = s.streaming else { return [] }
        streaming.recorder.cancel()
        s.streaming = streaming
        s.status = .init(kind: .info, text: "Reply stopped; the text so far is kept and marked cancelled.")
        return [.cancelStream(id: streaming.id)] + finishReply(&s)
    }

    private static func taggingKey(_ s: inout AppState, _ d: AppState.TagDraft, _ key: Key) -> [Effect] {
        var d = d
        switch key {
        case .char(let c) where "crdtf".contains(c):
            let label: Label = switch c {
            case "c": .candid
            case "r": .refusal
            case "d": .deflection
            case "t": .transformation
            default: .fabrication
            }
            d.labels.toggle(label)
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
        case .enter:
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
            return [.append(.annotation(AnnotationEvent(messageIndex: d.messageIndex, rater: s.info.annotator, annotation: annotation)))]
        default: break
        }
        return []
    }

    private static func moveSelection(_ s: inout AppState, _ d: AppState.TagDraft, by step: Int) {
        let replies = s.turns.indices.filter { s.turns[$0].isTaggable }
        guard let current = replies.firstIndex(where: { s.turns[$0].message.index == d.messageIndex }) else { return }
        let next = current + step
        guard replies.indices.contains(next) else { return }
        s.mode = .tagging(draft(for: replies[next], in: s))
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
        default: break
        }
        s.mode = .note(d, note)
        return []
    }

    private static func quit(_ s: inout AppState, confirmed: Bool, reason: String = "quit") -> [Effect] {
        var effects: [Effect] = []
        if s.streaming != nil {
            effects += cancelReply(&s)
            s.mode = .compose
        }
        let untagged = s.untaggedReplies.count
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
