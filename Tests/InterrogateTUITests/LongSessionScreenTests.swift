import Annotate
import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions

/// Frames of long sessions draw from the kept layout (each message wrapped once per width)
/// and rewrite only the cells that changed. None of it may change what a person sees: after
/// any keys, tokens, resizes, scrolls and tags, the screen equals the one drawn from scratch
/// (every message wrapped again), and the terminal ends up showing exactly the new frame.
@Suite("Long sessions look the same with the kept layout")
struct LongSessionScreenTests {
    static let long = LongSession(pairs: 2000)
    static let medium = LongSession(pairs: 150)

    /// The screen drawn three ways: from the kept layout, from none (the view wraps what it
    /// shows itself), and from scratch the old way; all three must be the same.
    static func differences(_ s: AppState) -> String? {
        let kept = InterrogationView.view(s)
        var bare = s
        bare.layout = ConversationLayout()
        let scratch = InterrogationView.view(s, rebuilt: true)
        if kept != scratch { return "kept layout differs from scratch:\n\(kept.text)\n--- scratch ---\n\(scratch.text)" }
        if InterrogationView.view(bare) != scratch { return "no layout differs from scratch" }
        return nil
    }

    static let keys: [Key] = [
        .char("x"), .char(" "), .char("?"), .char("c"), .char("r"), .char("d"), .char("t"), .char("f"), .char("l"), .char("n"),
        .char("j"), .char("k"), .char("y"), .char("今"), .backspace, .enter, .enter, .newline, .tab, .tab, .escape, .up, .down,
        .pageUp, .pageUp, .pageDown, .wheelUp, .wheelDown, .ctrl("t"), .ctrl("b"), .function(2), .function(1), .left, .home, .end,
    ]
    static let sizes: [(Int, Int)] = [(200, 60), (200, 60), (199, 60), (120, 40), (119, 40), (80, 24), (79, 24), (160, 48), (300, 90)]

    /// Random actions on a session, as the runtime delivers them; after each, the screen must
    /// equal the one drawn from scratch.
    static func randomWalk(_ start: AppState, seed: UInt64, steps: Int) -> String? {
        var r = SplitMix64(seed: seed)
        var s = start
        var log: [String] = []
        for _ in 0..<steps {
            let action: Action
            switch r.below(100) {
            case 0..<62: action = .key(r.pick(keys))
            case 62..<72:
                let (w, h) = r.pick(sizes)
                action = .resize(width: w, height: h)
            case 72..<97 where s.streaming != nil:
                let text = r.pick(["word ", "two words ", "\n\n", "今日は ", "🔐", String(repeating: "y", count: 90), ""])
                action = .model(streamId: s.streaming!.id, r.chance(90) ? .text(text) : .finished(reason: "stop"), at: .now)
            case 72..<97:
                // Ask a question (the reply streams in the steps after).
                for c in "And?" { _ = Update.update(&s, .key(.char(c))) }
                action = .key(.enter)
            default: action = .key(.escape)
            }
            log.append("\(action)")
            var queue = [action]
            while !queue.isEmpty {
                for effect in Update.update(&s, queue.removeFirst()) {
                    switch effect {
                    case .startStream(let id, _): queue.append(.streamStarted(streamId: id, at: .now))
                    case .cancelStream(let id): queue.append(.streamStopped(streamId: id, at: .now))
                    case .append: queue.append(.saved(seq: 1))
                    case .prepareModel, .quit, .recordSignals: break
                    }
                }
            }
            if s.quitting { s.quitting = false; s.overlay = nil }
            if let d = differences(s) { return "after \(log.suffix(8).joined(separator: ", ")):\n\(d)" }
            // The counts the header and the tag bar show, read in place, are the turns' own.
            if s.taggableCount != s.turns.filter(\.isTaggable).count || s.untaggedCount != s.untaggedReplies.count
                || s.questionsAsked != s.turns.filter({ $0.message.role == .interrogator }).count
                || s.countTurns(where: { s.isModel(at: $0) }) != s.turns.filter(\.isModel).count {
                return "the counts read in place differ from the turns' after \(log.suffix(8).joined(separator: ", "))"
            }
        }
        return nil
    }

    @Test("random keys, tokens, resizes, scrolls and tags on a 150-question session: the screen is the one drawn from scratch")
    func randomLive() {
        for seed in 0..<6 {
            let failure = Self.randomWalk(Self.medium.interrogation(width: 200, height: 60, untagged: 3), seed: UInt64(seed), steps: 120)
            #expect(failure == nil, "seed \(seed): \(failure ?? "")")
            if failure != nil { break }
        }
    }

    @Test("random keys and resizes in a blind review of a 150-question session: the screen is the one drawn from scratch")
    func randomReview() {
        for seed in 0..<4 {
            let failure = Self.randomWalk(Self.medium.review(width: 120, height: 40, open: 40), seed: UInt64(100 + seed), steps: 120)
            #expect(failure == nil, "seed \(seed): \(failure ?? "")")
            if failure != nil { break }
        }
    }

    @Test("a 2,000-question session after a resize, a streamed reply, a scroll and a re-tag looks as drawn from scratch")
    func longSession() throws {
        var s = Self.long.interrogation(width: 160, height: 48, untagged: 1)
        _ = Update.update(&s, .resize(width: 200, height: 60))
        #expect(Self.differences(s) == nil)
        // A reply streams in.
        _ = Update.update(&s, .key(.tab))
        _ = Update.update(&s, .key(.char("d")))
        _ = Update.update(&s, .key(.enter))
        for c in "And the code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        let id = try #require(s.streaming?.id)
        _ = Update.update(&s, .streamStarted(streamId: id, at: .now))
        for piece in ["I ", "will ", "not ", "say. ", "今日は ", String(repeating: "z", count: 230)] {
            _ = Update.update(&s, .model(streamId: id, .text(piece), at: .now))
        }
        #expect(Self.differences(s) == nil)
        _ = Update.update(&s, .model(streamId: id, .finished(reason: "stop"), at: .now))
        #expect(Self.differences(s) == nil)
        // Scroll up a long way, then re-tag an earlier reply, which is brought into view.
        for _ in 0..<7 { _ = Update.update(&s, .key(.pageUp)) }
        #expect(Self.differences(s) == nil)
        _ = Update.update(&s, .key(.char("f")))
        _ = Update.update(&s, .key(.enter))
        _ = Update.update(&s, .key(.tab))
        for _ in 0..<25 { _ = Update.update(&s, .key(.up)) }
        #expect(Self.differences(s) == nil)
        _ = Update.update(&s, .key(.char("t")))
        _ = Update.update(&s, .key(.enter))
        #expect(Self.differences(s) == nil)
        // To the very top, and a resize there.
        _ = Update.update(&s, .key(.ctrl("t")))
        _ = Update.update(&s, .resize(width: 121, height: 40))
        #expect(Self.differences(s) == nil)
        _ = Update.update(&s, .key(.ctrl("b")))
        #expect(Self.differences(s) == nil)
    }

    @Test("adjudicating a 2,000-turn session: after labels, moves, scrolls and resizes the screen is the one drawn from scratch")
    func adjudication() {
        var r = SplitMix64(seed: 0xAD1)
        var s = Self.long.adjudication(width: 200, height: 60)
        let keys: [Key] = [.up, .down, .down, .char("d"), .char("f"), .char("l"), .pageDown, .pageUp, .enter, .char("x"), .escape, .enter]
        for _ in 0..<60 {
            if r.chance(10) {
                let (w, h) = r.pick(Self.sizes)
                _ = AdjudicationUpdate.update(&s, .resize(width: w, height: h))
            } else {
                let key = r.pick(keys)
                if key == .escape && !s.draft.editingReason { continue } // Esc quits from the list
                for effect in AdjudicationUpdate.update(&s, .key(key)) where effect != .quit {
                    _ = AdjudicationUpdate.update(&s, .saved(seq: 1))
                }
            }
            #expect(AdjudicationView.view(s) == AdjudicationView.view(s, rebuilt: true))
        }
    }

    @Test("replaying a 2,000-question transcript in the report: after scrolls and resizes the screen is the one drawn from scratch")
    func reportReplay() {
        var s = Self.long.reportReplay(width: 200, height: 60)
        let inputs: [ReportScreenUpdate.Input] = [.key(.pageDown), .key(.down), .resize(120, 40), .key(.pageDown), .key(.up), .resize(200, 60), .key(.pageUp)]
        func check() {
            var bare = s
            bare.replayLayout = nil
            let scratch = ReportScreenView.view(s, rebuilt: true)
            #expect(ReportScreenView.view(s) == scratch)
            #expect(ReportScreenView.view(bare) == scratch)
        }
        for input in inputs {
            _ = ReportScreenUpdate.update(&s, input)
            check()
        }
        // Past the end, then back up, and a resize there.
        for _ in 0..<700 { _ = ReportScreenUpdate.update(&s, .key(.pageDown)) }
        check()
        _ = ReportScreenUpdate.update(&s, .resize(100, 30))
        check()
        for _ in 0..<650 { _ = ReportScreenUpdate.update(&s, .key(.pageUp)) }
        check()
    }

    // MARK: What long sessions look like

    @Test("a resumed 2,000-question session at 200x60, scrolled up and tagging an earlier reply")
    func longSnapshot() throws {
        var s = Self.long.interrogation(width: 200, height: 60, untagged: 2)
        _ = Update.update(&s, .saved(seq: 9000))
        _ = Update.update(&s, .key(.pageUp))
        _ = Update.update(&s, .key(.tab))
        _ = Update.update(&s, .key(.up))
        try ScreenSnapshotTests().assertSnapshot(InterrogationView.view(s), "long-session-200x60")
    }

    @Test("a blind review of a 2,000-question session at 120x40, near its end")
    func longReviewSnapshot() throws {
        let s = Self.long.review(width: 120, height: 40, open: 3)
        try ScreenSnapshotTests().assertSnapshot(InterrogationView.view(s), "long-review-120x40")
    }

    @Test("adjudicating a 2,000-turn session at 120x40: the list scrolled to the turn chosen")
    func longAdjudicationSnapshot() throws {
        var s = Self.long.adjudication(width: 120, height: 40)
        for _ in 0..<40 { _ = AdjudicationUpdate.update(&s, .key(.down)) }
        try ScreenSnapshotTests().assertSnapshot(AdjudicationView.view(s), "long-adjudicate-120x40")
    }
}

/// The terminal is told only what changed between frames; what it shows must be the new frame.
@Suite("Drawing only what changed")
struct ScreenDiffTests {
    /// A terminal's cells, as curses keeps them: a wide character fills the cell after it,
    /// and writing over either half of one breaks it (the other half shows blank).
    struct Terminal: Equatable {
        var cells: [[String]]
        init(width: Int, height: Int) { cells = Array(repeating: Array(repeating: " ", count: width), count: height) }

        mutating func write(_ text: String, row: Int, column c: Int) {
            var line = cells[row]
            if line[c].isEmpty && c > 0 { line[c - 1] = " " }
            if DisplayWidth.of(line[c]) == 2 && c + 1 < line.count { line[c + 1] = " " }
            line[c] = text
            if DisplayWidth.of(text) == 2 && c + 1 < line.count {
                if DisplayWidth.of(line[c + 1]) == 2 && c + 2 < line.count { line[c + 2] = " " }
                line[c + 1] = ""
            }
            cells[row] = line
        }

        /// Writes the cells of `spans` as the renderer does.
        mutating func draw(_ screen: Screen, _ spans: [ScreenDiff.Span]) {
            for span in spans {
                for col in span.columns {
                    if let text = ScreenDiff.text(screen, row: span.row, column: col) { write(text, row: span.row, column: col) }
                }
            }
        }

        /// A blank terminal with every cell of `screen` drawn, as each frame was before.
        static func whole(_ screen: Screen) -> Terminal {
            var t = Terminal(width: screen.width, height: screen.height)
            t.draw(screen, ScreenDiff.everything(screen))
            return t
        }
    }

    static func randomScreen(_ r: inout SplitMix64, width: Int, height: Int) -> Screen {
        var screen = Screen(width: width, height: height)
        for _ in 0..<r.below(8) {
            let text = (0..<r.below(12)).map { _ in r.pick(["a", "b", " ", "今", "日", "🔐", "é", "─", "e\u{301}", "a\u{301}", "👩‍💻", "🇫🇷"]) }.joined()
            screen.put(text, row: r.below(height), column: r.below(width), role: r.pick([.text, .dim, .selected, .key]))
        }
        return screen
    }

    @Test("whatever two frames hold (wide characters included), rewriting the changed spans shows the new frame")
    func applyingTheSpansShowsTheNewFrame() {
        var r = SplitMix64(seed: 0xD1FF)
        for _ in 0..<2000 {
            let old = Self.randomScreen(&r, width: 12, height: 4)
            let new = Self.randomScreen(&r, width: 12, height: 4)
            let spans = ScreenDiff.spans(from: old, to: new)
            var terminal = Terminal.whole(old)
            terminal.draw(new, spans)
            #expect(terminal == Terminal.whole(new), "\(old.text)\n→\n\(new.text)")
            // Colours too: every changed cell is in a span.
            for row in 0..<new.height {
                for col in 0..<new.width where old[row, col] != new[row, col] {
                    #expect(spans.contains { $0.row == row && $0.columns.contains(col) })
                }
            }
        }
    }

    @Test("a frame the same as the last rewrites nothing; a keystroke rewrites the question row only")
    func onlyWhatChanged() throws {
        var s = LongSessionScreenTests.medium.interrogation(width: 200, height: 60)
        let before = InterrogationView.view(s)
        #expect(ScreenDiff.spans(from: before, to: InterrogationView.view(s)).isEmpty)
        _ = Update.update(&s, .key(.char("W")))
        let spans = ScreenDiff.spans(from: before, to: InterrogationView.view(s))
        let row = try #require(InterrogationView.view(s).cursor?.row)
        #expect(spans.map(\.row) == [row])
        #expect(spans.first?.columns.count ?? 99 < 60, "the placeholder text is replaced, not the whole row")
        // A new size has nothing to compare with: everything is drawn.
        _ = Update.update(&s, .resize(width: 199, height: 60))
        #expect(ScreenDiff.spans(from: before, to: InterrogationView.view(s)).count == 60)
    }
}
