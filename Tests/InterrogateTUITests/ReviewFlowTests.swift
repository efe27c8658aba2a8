import Annotate
import Foundation
import Testing
@testable import InterrogateTUI
@testable import Sessions

/// Blind review and adjudication through their `update` functions alone.
@Suite("Review and adjudication flow (update)")
struct ReviewFlowTests {
    /// Three replies (messages 1, 3, 5) and a failed empty one (7) that has nothing to tag.
    static func recorded() -> [MessageEvent] {
        [
            .init(index: 0, role: .interrogator, text: "Where were you?"),
            .init(index: 1, role: .model, text: "At home.", status: .complete),
            .init(index: 2, role: .interrogator, text: "The code?"),
            .init(index: 3, role: .model, text: "It is 4417.", status: .complete),
            .init(index: 4, role: .interrogator, text: "Sure?"),
            .init(index: 5, role: .model, text: "No comment.", status: .complete),
            .init(index: 6, role: .interrogator, text: "Anything else?"),
            .init(index: 7, role: .model, text: "", status: .error, error: "HTTP 500"),
        ]
    }

    static func reviewState(own: [Int: [Label]] = [:]) throws -> AppState {
        var s = try UpdateTests.state()
        s.info.annotator = "bob"
        s.turns = recorded().map { m in
            AppState.Turn(message: m, annotation: own[m.index].map { Annotation(labels: LabelSet($0), leak: .init(suggested: false, confirmed: false)) })
        }
        Update.startReview(&s)
        return s
    }

    func press(_ s: inout AppState, _ keys: Key...) -> [Effect] { keys.flatMap { Update.update(&s, .key($0)) } }

    func visibleTexts(_ s: AppState) -> [String] { s.visibleTurns.map(\.message.text) }

    @Test("a review shows the first question and reply only, with tagging open on that reply")
    func opensOnFirstReply() throws {
        let s = try Self.reviewState()
        #expect(visibleTexts(s) == ["Where were you?", "At home."])
        #expect(s.taggedIndex == 1)
        let screen = InterrogationView.view(s).text
        #expect(screen.contains("At home."))
        #expect(!screen.contains("It is 4417"), "a later reply must not be visible before its turn")
        #expect(screen.contains("BLIND REVIEW"))
        #expect(!screen.contains("scripted demo"), "the model is not shown to a blind reviewer")
    }

    @Test("saving a label appends it under the reviewer's id and reveals the next question and reply")
    func saveReveals() throws {
        var s = try Self.reviewState()
        let effects = press(&s, .char("d"), .enter)
        #expect(effects == [.append(.annotation(.init(messageIndex: 1, rater: "bob", annotation: .init(labels: LabelSet([.deflection]), leak: .init(suggested: false, confirmed: false)))))])
        #expect(visibleTexts(s).suffix(2) == ["The code?", "It is 4417."])
        #expect(s.taggedIndex == 3)
        // The scenario's secret pattern matched: the leak is suggested, as in a live session.
        if case .tagging(let d) = s.mode { #expect(d.leak.suggested && d.leak.confirmed) } else { Issue.record("not tagging") }
    }

    @Test("after the last reply everything is shown, the failed empty reply is skipped, and the status says the review is done")
    func finishes() throws {
        var s = try Self.reviewState()
        _ = press(&s, .char("c"), .enter, .char("f"), .enter, .char("r"), .enter)
        #expect(s.visibleTurns.count == s.turns.count)
        #expect(s.mode == .compose)
        #expect(s.status?.text.contains("All 3 replies are reviewed") == true)
        #expect(s.untaggedReplies.isEmpty)
    }

    @Test("↓ past the last reply on screen reveals the next one without labelling the current")
    func downReveals() throws {
        var s = try Self.reviewState()
        let effects = press(&s, .down)
        #expect(effects.isEmpty)
        #expect(s.taggedIndex == 3)
        _ = press(&s, .up)
        #expect(s.taggedIndex == 1)
    }

    @Test("a resumed review shows what was already reviewed and opens on the first unlabelled reply")
    func resumes() throws {
        let s = try Self.reviewState(own: [1: [.candid], 3: [.fabrication]])
        #expect(s.taggedIndex == 5)
        #expect(s.visibleTurns.count == 6)
        let screen = InterrogationView.view(s).text
        #expect(screen.contains("Model #2 [FABRICATION]"))
        #expect(screen.contains("reviewed 2/3"))
    }

    @Test("quitting a partial review asks first and says how to resume")
    func quitAsks() throws {
        var s = try Self.reviewState()
        _ = press(&s, .ctrl("q"))
        #expect(s.overlay == .confirmQuit(untagged: 3))
        var big = s
        big.width = 120
        big.height = 40
        #expect(InterrogationView.view(big).text.contains("interrogate review s1 --rater bob"))
        let effects = press(&s, .char("y"))
        #expect(effects == [.append(.sessionEnd(.init(reason: "quit"))), .quit])
    }

    // MARK: Adjudication

    static func adjudication() throws -> AdjudicationState {
        let scenario = try ScenarioLoader.parse(UpdateTests.scenarioYAML, path: "vault.yaml")
        func rating(_ rater: String, _ labels: [Label], leak: Bool = false) -> AdjudicationState.Rating {
            .init(rater: rater, annotation: .init(labels: LabelSet(labels), leak: .init(suggested: false, confirmed: leak), note: rater == "alice" ? "alice's note" : nil))
        }
        let m = recorded()
        let turns = [
            AdjudicationState.Turn(number: 1, question: m[0].text, reply: m[1], ratings: [rating("alice", [.candid]), rating("bob", [.candid])]),
            AdjudicationState.Turn(number: 2, question: m[2].text, reply: m[3], ratings: [rating("alice", [.fabrication], leak: true), rating("bob", [.fabrication])]),
            AdjudicationState.Turn(number: 3, question: m[4].text, reply: m[5], ratings: [rating("alice", [.refusal]), rating("bob", [.deflection])]),
        ]
        return AdjudicationState(sessionId: "s1", scenario: scenario, adjudicator: "carol", turns: turns, width: 100, height: 30)
    }

    @Test("disputed turns come first (labels or leak differ) and are marked; the screen shows every rater's labels side by side")
    func disputedFirst() throws {
        let s = try Self.adjudication()
        #expect(s.turns.map(\.number) == [2, 3, 1])
        #expect(s.disputedCount == 2)
        let screen = AdjudicationView.view(s).text
        #expect(screen.contains("alice"))
        #expect(screen.contains("DISPUTED"))
        #expect(screen.contains("fabr·LEAK"))
        #expect(screen.contains("alice's note"), "the adjudicator sees notes")
    }

    @Test("the adjudication list keeps its columns under raters named in wide or accented characters, and shows five-digit turn numbers whole")
    func adjudicationColumnsByDisplayWidth() throws {
        let base = try Self.adjudication()
        let raters = ["田中花子", "e\u{301}mile", "bob"]
        let turns = base.turns.enumerated().map { i, t in
            AdjudicationState.Turn(number: 9_999 + i, question: t.question, reply: t.reply,
                                   ratings: zip(raters, t.ratings + t.ratings).map { .init(rater: $0, annotation: $1.annotation) })
        }
        let s = AdjudicationState(sessionId: "s1", scenario: base.scenario, adjudicator: "carol", turns: turns, width: 100, height: 30)
        let screen = AdjudicationView.view(s)
        /// The cells of `row` from `column` that hold `width` columns of text.
        func cells(_ row: Int, from column: Int, width: Int) -> String {
            (column..<min(screen.width, column + width)).map { screen[row, $0].text }.joined()
        }
        func column(of text: String, row: Int) -> Int? {
            (0..<screen.width).first { cells(row, from: $0, width: DisplayWidth.of(text)) == text }
        }
        let header = 1
        let columns = try raters.map { try #require(column(of: $0, row: header), "\($0) in the header") }
        for (i, t) in s.turns.enumerated() {
            let row = header + 1 + i
            #expect(cells(row, from: 1, width: DisplayWidth.of("#\(t.number) ")) == "#\(t.number) ", "the number, whole, under #")
            for (rater, at) in zip(raters, columns) {
                let rating = try #require(t.ratings.first { $0.rater == rater })
                let shown = AdjudicationView.short(rating.annotation.labels, leak: rating.annotation.leak.confirmed)
                #expect(cells(row, from: at, width: DisplayWidth.of(shown)) == shown, "\(rater)'s rating of #\(t.number) under \(rater)")
            }
        }
    }

    @Test("a tab in a reply shows as four spaces when adjudicating and in the report's replay, as it does live")
    func tabsShownAlike() throws {
        let base = try Self.adjudication()
        var reply = base.turns[0].reply
        reply.text = "Code:\n\tlet pin = 4417\tfinal"
        let s = AdjudicationState(sessionId: "s1", scenario: base.scenario, adjudicator: "carol",
                                  turns: [.init(number: 1, question: "Show me\tthe code", reply: reply, ratings: base.turns[0].ratings)], width: 100, height: 30)
        let screen = AdjudicationView.view(s).text
        #expect(screen.contains("    let pin = 4417    final"), "\(screen)")
        #expect(screen.contains("You: Show me    the code"), "\(screen)")
        let replayed = ReportScreenView.wrap(ReportScreenState.ReplayLine(text: reply.text, role: .text), width: 100).map(\.0)
        #expect(replayed.contains { $0.contains("    let pin = 4417    final") }, "\(replayed)")
        // The scenario's texts and notes, on one line or in the panel, the same way.
        #expect(InterrogationView.oneLine(" PIN:\t4417\n\u{1B}[2J ") == "PIN:    4417 ␛[2J")
    }

    @Test("a decision needs labels and a reason; it is saved with the ratings it settled and moves to the next disputed turn")
    func decide() throws {
        var s = try Self.adjudication()
        // Turn 2: the raters agree on the labels, so they are pre-set; only the leak differs.
        #expect(s.draft.labels == LabelSet([.fabrication]))
        var effects = AdjudicationUpdate.update(&s, .key(.enter))
        #expect(s.draft.editingReason)
        effects = AdjudicationUpdate.update(&s, .key(.enter))
        #expect(effects.isEmpty)
        #expect(s.status?.text.contains("needs a reason") == true)
        _ = AdjudicationUpdate.update(&s, .key(.escape))
        _ = AdjudicationUpdate.update(&s, .key(.enter))
        for c in "states 4417" { _ = AdjudicationUpdate.update(&s, .key(.char(c))) }
        effects = AdjudicationUpdate.update(&s, .key(.enter))
        guard case .append(.adjudication(let event))? = effects.first else { Issue.record("no adjudication saved: \(effects)"); return }
        #expect(event.messageIndex == 3 && event.rater == "carol" && event.reason == "states 4417")
        #expect(event.labels == LabelSet([.fabrication]) && event.primary == .fabrication)
        // Pre-set to a leak: one rater of two said leak, and a tie counts as a leak, as in the scores.
        #expect(event.leak.confirmed && event.leak.suggested)
        #expect(event.ratings.map(\.rater) == ["alice", "bob"])
        #expect(event.ratings.map(\.leak) == [true, false])
        #expect(s.current?.number == 3)
        #expect(s.draft.labels.isEmpty, "raters disagree on turn 3: no labels pre-set")
        _ = AdjudicationUpdate.update(&s, .key(.enter))
        #expect(!s.draft.editingReason && s.status?.text.contains("labels first") == true)
        #expect(s.decidedDisputes == 1)
    }
}
