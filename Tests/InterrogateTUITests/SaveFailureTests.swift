import Annotate
import Foundation
import Testing
@testable import InterrogateTUI
@testable import Sessions

/// After an append fails the transcript and the screen would disagree from then on, so the
/// session stops writing: the failure stays on screen with its reason, questions and tags
/// are refused with a clear message, and quitting leaves the file as it was for the exit
/// report (and `run --resume`) to take over.
@Suite("After a failed save (update)")
struct SaveFailureTests {
    @discardableResult
    func send(_ s: inout AppState, _ actions: Action...) -> [Effect] { actions.flatMap { Update.update(&s, $0) } }

    func type(_ s: inout AppState, _ text: String) { for c in text { _ = Update.update(&s, .key(.char(c))) } }

    /// A question and its reply on screen, then the reply's append failed.
    func failedAfterReply() throws -> AppState {
        var s = try UpdateTests.state()
        type(&s, "Code?")
        send(&s, .key(.enter), .saved(seq: 2), .model(streamId: 1, .text("No."), at: .now), .model(streamId: 1, .finished(reason: "stop"), at: .now))
        send(&s, .saveFailed("No space left on device"))
        return s
    }

    @Test("the question's save failing stops the reply it asked for: nothing unsaved goes on streaming")
    func questionFails() throws {
        var s = try UpdateTests.state()
        type(&s, "Code?")
        send(&s, .key(.enter))
        let effects = send(&s, .saveFailed("No space left on device"))
        #expect(effects == [.cancelStream(id: 1)])
        #expect(s.streaming == nil && !s.turns[1].isStreaming)
        // The runtime reports the stop; nothing is recorded.
        #expect(send(&s, .streamStopped(streamId: 1, at: .now)).isEmpty)
        #expect(send(&s, .model(streamId: 1, .text("late"), at: .now)).isEmpty)
    }

    @Test("the header says NOT SAVED in the error role and the status line keeps the reason")
    func shown() throws {
        var s = try failedAfterReply()
        send(&s, .key(.escape), .key(.char("x")), .key(.backspace))
        let screen = InterrogationView.view(s)
        let rows = screen.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows[0].contains("NOT SAVED"))
        let column = rows[0].distance(from: rows[0].startIndex, to: rows[0].range(of: "NOT SAVED")!.lowerBound)
        #expect(screen[0, column].role == .error)
        #expect(rows[23].contains("NOT SAVED") && rows[23].contains("No space left on device"))
    }

    @Test("a new question is refused with the reason, and kept in the box")
    func sendRefused() throws {
        var s = try failedAfterReply()
        send(&s, .key(.escape))
        type(&s, "Again?")
        #expect(send(&s, .key(.enter)).isEmpty)
        #expect(send(&s, .key(.enter)).isEmpty)
        #expect(s.input.text == "Again?")
        #expect(s.status?.kind == .error)
        #expect(s.status?.text.contains("No space left on device") == true)
        #expect(s.status?.text.contains("not sent") == true)
    }

    @Test("tags are refused: nothing is appended and the reply stays untagged on screen")
    func tagRefused() throws {
        var s = try failedAfterReply()
        let effects = send(&s, .key(.char("c")), .key(.enter))
        #expect(effects.isEmpty)
        #expect(s.turns[1].annotation == nil)
        #expect(s.status?.kind == .error && s.status?.text.contains("not saved") == true)
    }

    @Test("a resumed question is not asked again once the model is ready")
    func noResend() throws {
        var s = try UpdateTests.state()
        s.modelStatus = .starting
        s.turns = [.init(message: MessageEvent(index: 0, role: .interrogator, text: "Code?"))]
        s.resendUnanswered = true
        send(&s, .saveFailed("read-only file system"))
        #expect(send(&s, .modelReady(s.info.suspect)).isEmpty)
    }

    @Test("quitting ends at once, writes nothing more, and keeps the error for the exit report")
    func quit() throws {
        var s = try failedAfterReply()
        let effects = send(&s, .key(.ctrl("q")))
        #expect(effects == [.quit])
        #expect(s.quitting && s.overlay == nil)
        #expect(s.saveError == "No space left on device")
    }

    @Test("the first failure's reason is kept when later ones follow")
    func firstReasonKept() throws {
        var s = try failedAfterReply()
        send(&s, .saveFailed("Input/output error"))
        #expect(s.saveError == "No space left on device")
    }

    @Test("adjudication: a decision whose save failed is taken back off the screen, no later decision is written, and quitting writes nothing more")
    func adjudicationStopsWriting() throws {
        var s = try ReviewFlowTests.adjudication()
        func decide(_ reason: String) -> [Effect] {
            var effects = AdjudicationUpdate.update(&s, .key(.char("d")))
            effects += AdjudicationUpdate.update(&s, .key(.enter))
            for c in reason { effects += AdjudicationUpdate.update(&s, .key(.char(c))) }
            return effects + AdjudicationUpdate.update(&s, .key(.enter))
        }
        let turn = s.selected
        #expect(decide("first").count == 1)
        #expect(s.turns[turn].decision != nil)
        _ = AdjudicationUpdate.update(&s, .saveFailed("No space left on device"))
        #expect(s.turns[turn].decision == nil, "the screen still shows a decision the file does not hold")
        #expect(s.status?.kind == .error && s.status?.text.contains("No space left on device") == true)
        _ = AdjudicationUpdate.update(&s, .key(.down))
        #expect(s.status?.text.contains("NOT SAVED") == true, "moving on hid the failure")
        #expect(decide("second").isEmpty, "a decision was written after a failed save")
        #expect(AdjudicationUpdate.update(&s, .key(.ctrl("q"))) == [.quit])
        #expect(s.quitting)
    }
}
