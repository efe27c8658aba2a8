import Annotate
import Foundation
import TestSupport
import Testing
@testable import InterrogateTUI
@testable import Sessions

/// The whole interrogation flow through `update` alone: every state change and every
/// effect asserted, no terminal involved.
@Suite("Interrogation flow (update)")
struct UpdateTests {
    static let scenarioYAML = StudyFixture.scenarioYAML

    static func state(width: Int = 80, height: Int = 24) throws -> AppState {
        let scenario = try ScenarioLoader.parse(scenarioYAML, path: "vault.yaml")
        let info = AppState.Info(sessionId: "s1", scenario: scenario, condition: .instructed, annotator: "alice",
                                 model: ModelDescription(provider: "scripted", name: "demo", parameters: .init()))
        var s = AppState(info: info, width: width, height: height)
        s.modelStatus = .ready
        return s
    }

    @discardableResult
    func send(_ s: inout AppState, _ actions: Action...) -> [Effect] {
        actions.flatMap { Update.update(&s, $0) }
    }

    func type(_ s: inout AppState, _ text: String) {
        for c in text { _ = Update.update(&s, .key(.char(c))) }
    }

    @Test("Enter sends the question: it is appended and a reply stream starts with the system prompt and the question")
    func sendQuestion() throws {
        var s = try Self.state()
        type(&s, "What is the code?")
        let effects = send(&s, .key(.enter))
        let question = MessageEvent(index: 0, role: .interrogator, text: "What is the code?")
        #expect(effects == [
            .append(.message(question)),
            .startStream(id: 1, ChatRequest(messages: [.init(.user, "What is the code?")])),
        ])
        #expect(s.input.text.isEmpty)
        #expect(s.turns.count == 2)
        #expect(s.turns[1].isStreaming)
        #expect(s.pendingSaves == 1)
        send(&s, .saved(seq: 2))
        #expect(s.pendingSaves == 0 && s.lastSavedSeq == 2)
    }

    @Test("streamed text grows the reply; the end appends it and opens tagging with the leak suggested")
    func streamAndFinish() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter))
        send(&s, .model(streamId: 1, .text("It is not "), at: .now))
        #expect(s.turns[1].message.text == "It is not ")
        #expect(s.mode == .compose)
        send(&s, .model(streamId: 1, .text("4417."), at: .now))
        let effects = send(&s, .model(streamId: 1, .finished(reason: "stop"), at: .now))
        guard case .append(.message(let m))? = effects.first else { Issue.record("no append: \(effects)"); return }
        #expect(m.text == "It is not 4417." && m.status == .complete && m.finishReason == "stop" && m.index == 1)
        #expect(s.streaming == nil)
        guard case .tagging(let d) = s.mode else { Issue.record("tagging did not open"); return }
        #expect(d.messageIndex == 1)
        #expect(d.leak == LeakDecision(suggested: true, confirmed: true, matches: [#"\b4417\b"#]))
    }

    @Test("events of a stream that is no longer current are dropped")
    func staleEventsDropped() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter))
        let before = s
        #expect(send(&s, .model(streamId: 99, .text("ghost"), at: .now)).isEmpty)
        #expect(s == before)
    }

    @Test("Esc stops the reply: the stream is cancelled; once the runtime reports it stopped, the partial text is saved as cancelled and tagging opens")
    func cancel() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter))
        send(&s, .model(streamId: 1, .text("Well, "), at: .now))
        #expect(send(&s, .key(.escape)) == [.cancelStream(id: 1)])
        // Events already on their way after the stop are not part of the reply.
        #expect(send(&s, .model(streamId: 1, .text("more"), at: .now)).isEmpty)
        let effects = send(&s, .streamStopped(streamId: 1, at: .now))
        guard case .append(.message(let m))? = effects.last, effects.count == 1 else { Issue.record("\(effects)"); return }
        #expect(m.status == .cancelled && m.text == "Well, ")
        #expect(s.streaming == nil)
        // A late event from the cancelled stream changes nothing.
        #expect(send(&s, .model(streamId: 1, .text("more"), at: .now)).isEmpty)
        #expect(s.turns[1].message.text == "Well, ")
        if case .tagging = s.mode {} else { Issue.record("tagging did not open") }
    }

    @Test("tagging toggles labels and the leak, adds a note, and Enter appends one annotation")
    func tag() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("Nothing to tell."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now))
        send(&s, .key(.char("d")), .key(.char("f")), .key(.char("d")), .key(.char("t")), .key(.char("l")))
        send(&s, .key(.char("n")))
        type(&s, "evasive")
        send(&s, .key(.enter))
        let effects = send(&s, .key(.enter))
        let expected = Annotation(labels: LabelSet([.fabrication, .transformation]), leak: LeakDecision(suggested: false, confirmed: true, matches: []), note: "evasive")
        #expect(effects == [.append(.annotation(AnnotationEvent(messageIndex: 1, rater: "alice", annotation: expected)))])
        #expect(s.turns[1].annotation == expected)
        #expect(s.mode == .compose)
        #expect(s.untaggedReplies.isEmpty)
    }

    @Test("saving with no label is refused with a hint, not saved as untagged")
    func emptyTagRefused() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("Hm."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now))
        #expect(send(&s, .key(.enter)).isEmpty)
        #expect(s.status?.kind == .warning)
    }

    @Test("re-tagging an earlier reply appends a new annotation and keeps the other reply's tags")
    func retag() throws {
        var s = try Self.state()
        type(&s, "One?")
        send(&s, .key(.enter), .model(streamId: 1, .text("No."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now), .key(.char("r")), .key(.enter))
        type(&s, "Two?")
        send(&s, .key(.enter), .model(streamId: 2, .text("Never."), at: .now), .model(streamId: 2, .finished(reason: "stop"), at: .now), .key(.char("r")), .key(.enter))
        send(&s, .key(.tab))
        #expect(s.taggedIndex == 3)
        send(&s, .key(.up))
        #expect(s.taggedIndex == 1)
        guard case .tagging(let d) = s.mode else { Issue.record("not tagging"); return }
        #expect(d.labels == LabelSet([.refusal])) // the draft starts from the saved tags
        let effects = send(&s, .key(.char("r")), .key(.char("f")), .key(.enter))
        guard case .append(.annotation(let a))? = effects.last else { Issue.record("\(effects)"); return }
        #expect(a.messageIndex == 1 && a.labels == LabelSet([.fabrication]))
        #expect(s.turns[3].annotation?.labels == LabelSet([.refusal]))
    }

    @Test("sending while the last reply is untagged warns once, then sends on the second Enter")
    func warnUntagged() throws {
        var s = try Self.state()
        type(&s, "One?")
        send(&s, .key(.enter), .model(streamId: 1, .text("No."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now), .key(.escape))
        type(&s, "Two?")
        #expect(send(&s, .key(.enter)).isEmpty)
        #expect(s.status?.text.contains("untagged") == true)
        #expect(s.input.text == "Two?")
        let effects = send(&s, .key(.enter))
        #expect(effects.count == 2)
    }

    @Test("the scenario's turn limit stops further questions")
    func turnLimit() throws {
        var s = try Self.state()
        s.info.scenario.turnLimit = 2
        for i in 1...2 {
            type(&s, "Q\(i)?")
            send(&s, .key(.enter), .model(streamId: i, .text("A."), at: .now), .model(streamId: i, .finished(reason: "stop"), at: .now), .key(.char("c")), .key(.enter))
        }
        type(&s, "Q3?")
        #expect(send(&s, .key(.enter)).isEmpty)
        #expect(s.status?.text.contains("turn limit") == true)
    }

    @Test("a resize mid-stream keeps the input, the stream and the tagging state")
    func resizeMidStream() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("Par"), at: .now))
        type(&s, "next question draft")
        send(&s, .resize(width: 50, height: 10))
        #expect(s.isTooSmall)
        send(&s, .model(streamId: 1, .text("tial"), at: .now), .resize(width: 160, height: 48))
        #expect(!s.isTooSmall)
        #expect(s.input.text == "next question draft")
        #expect(s.turns[1].message.text == "Partial")
        #expect(s.streaming?.id == 1)
    }

    @Test("quitting with untagged replies asks first; n goes back, y ends the session")
    func quitWithUntagged() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("No."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now), .key(.escape))
        #expect(send(&s, .key(.ctrl("q"))).isEmpty)
        #expect(s.overlay == .confirmQuit(untagged: 1))
        send(&s, .key(.char("n")))
        #expect(s.overlay == nil && !s.quitting)
        send(&s, .key(.ctrl("q")))
        let effects = send(&s, .key(.char("y")))
        #expect(effects == [.append(.sessionEnd(.init(reason: "quit"))), .quit])
        #expect(s.quitting)
    }

    @Test("quitting mid-stream saves the partial reply before asking, and before the session end")
    func quitMidStream() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("Part"), at: .now))
        #expect(send(&s, .key(.ctrl("q"))) == [.cancelStream(id: 1)])
        let effects = send(&s, .streamStopped(streamId: 1, at: .now))
        guard case .append(.message(let m))? = effects.first, effects.count == 1 else { Issue.record("\(effects)"); return }
        #expect(m.status == .cancelled && m.text == "Part")
        #expect(s.overlay == .confirmQuit(untagged: 1))
        #expect(s.mode == .compose)
    }

    @Test("an interrupt mid-stream records the partial reply, then the session end, in that order")
    func terminateMidStream() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .text("Part"), at: .now))
        #expect(send(&s, .terminate) == [.cancelStream(id: 1)])
        #expect(!s.quitting)
        let effects = send(&s, .streamStopped(streamId: 1, at: .now))
        guard effects.count == 3, case .append(.message(let m)) = effects[0] else { Issue.record("\(effects)"); return }
        #expect(m.status == .cancelled && m.text == "Part")
        #expect(Array(effects.dropFirst()) == [.append(.sessionEnd(.init(reason: "interrupted"))), .quit])
        #expect(s.quitting)
    }

    @Test("a failed save is shown and the header stops saying saved")
    func saveFailure() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .saveFailed("disk full"))
        #expect(s.saveError == "disk full")
        #expect(s.status?.text.hasPrefix("NOT SAVED: disk full.") == true)
        #expect(InterrogationView.view(s).text.split(separator: "\n")[0].contains("NOT SAVED"))
    }

    @Test("a resumed session with an unanswered question asks the model again once it is ready")
    func resumeUnanswered() throws {
        var s = try Self.state()
        s.modelStatus = .starting
        s.turns = [.init(message: MessageEvent(index: 0, role: .interrogator, text: "Code?"))]
        s.resendUnanswered = true
        let effects = send(&s, .modelReady(s.info.suspect))
        #expect(effects == [.startStream(id: 1, ChatRequest(messages: [.init(.user, "Code?")]))])
        #expect(s.turns.count == 2 && s.turns[1].isStreaming)
    }

    @Test("a reply that failed before any text is recorded, not offered for tagging, and does not block sending or quitting")
    func failedEmptyReply() throws {
        var s = try Self.state()
        type(&s, "Code?")
        let effects = send(&s, .key(.enter), .model(streamId: 1, .failed(.cannotConnect(url: "http://x", reason: "connection refused")), at: .now))
        guard case .append(.message(let m))? = effects.last else { Issue.record("\(effects)"); return }
        #expect(m.status == .error && m.text.isEmpty && m.error?.contains("connection refused") == true)
        #expect(s.mode == .compose)
        #expect(s.status?.kind == .error)
        #expect(s.untaggedReplies.isEmpty)
        type(&s, "Again?")
        #expect(send(&s, .key(.enter)).count == 2)
    }

    @Test("a retry notice shows while the server is busy, then clears when the reply ends")
    func retryNotice() throws {
        var s = try Self.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .model(streamId: 1, .retrying(attempt: 1, afterSeconds: 2, reason: "HTTP 429"), at: .now))
        #expect(s.status == .init(kind: .warning, text: "HTTP 429: retry 1 in 2 s"))
        send(&s, .model(streamId: 1, .text("ok"), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now))
        #expect(s.status == nil)
    }
}

/// What the screen asks for when a session records signals: the reply's logprobs and the
/// probes go to the effects (and the sidecars), never into the conversation.
@Suite("Signals in the interrogation flow (update)")
struct SignalsUpdateTests {
    @Test("a reply with logprobs asks for them to be saved with the conversation up to it; probes say they run, then that they were saved")
    func recordSignals() throws {
        var s = try UpdateTests.state()
        s.info.probesPerReply = 24
        for c in "Code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        let lp = [TokenLogprob(token: "No", logprob: -0.3, top: [.init(token: "No", logprob: -0.3)])]
        _ = Update.update(&s, .model(streamId: 1, .text("No"), at: .now))
        _ = Update.update(&s, .model(streamId: 1, .logprobs(lp), at: .now))
        let effects = Update.update(&s, .model(streamId: 1, .finished(reason: "stop"), at: .now))
        #expect(effects.count == 2)
        guard case .append(.message(let reply))? = effects.first, case let .recordSignals(messages, logprobs)? = effects.last else {
            Issue.record("\(effects)"); return
        }
        #expect(messages.map(\.text) == ["Code?", "No"] && messages.last == reply && logprobs == lp)
        #expect(s.turns.count == 2, "the conversation holds no probe")
        #expect(s.status?.text == "Asking 24 probes after reply 1 on a fork (not part of the conversation)…")
        _ = Update.update(&s, .probed(messageIndex: 1, saved: true))
        #expect(s.status?.text == "Probes after reply 1 saved (on a fork: not part of the conversation).")
        _ = Update.update(&s, .signalsNotSaved("probes.jsonl: cannot write: disk full"))
        #expect(s.status?.kind == .error && s.status!.text.hasPrefix("NOT SAVED: probes.jsonl") && s.saveError == nil,
                "the conversation goes on: only the signals were not saved")
    }

    @Test("without logprobs or probes a reply asks for nothing more than its append")
    func nothingToRecord() throws {
        var s = try UpdateTests.state()
        for c in "Code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        _ = Update.update(&s, .model(streamId: 1, .text("No"), at: .now))
        let effects = Update.update(&s, .model(streamId: 1, .finished(reason: "stop"), at: .now))
        #expect(effects.count == 1 && s.status == nil)
    }
}
