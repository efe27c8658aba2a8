import Annotate
import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions


/// Thousands of random key sequences through `update` and `view`: whatever is typed, the app
/// does not crash, the cursor stays inside the text and the screen, and no row is wider
/// than the screen.
@Suite("Random key sequences (property)")
struct KeySequencePropertyTests {
    /// Text that merges, is wide, runs right to left, or is not text at all.
    static let scalars: [String] = [
        "a", "e", "x", " ", "?", "c", "r", "d", "t", "f", "l", "n", "j", "k", "y", "q",
        "\u{301}", "\u{308}", "\u{20DD}", // combining acute, diaeresis, enclosing circle
        "\u{200D}", "\u{FE0F}", "\u{200B}", "\u{200F}", "\u{202E}", "\u{2066}", // ZWJ, VS16, ZWSP, RLM, RLO, LRI
        "\u{1F469}", "\u{1F467}", "\u{2764}", "\u{1F44D}", "\u{1F3FD}", "\u{1F3FB}", // emoji, skin tones
        "\u{1F1EB}", "\u{1F1F7}", "\u{1F1E9}", "\u{1F1EA}", // regional indicators, one at a time
        "今", "日", "は", "한", "\u{FF21}", // wide
        "ש", "ל", "ו", "ם", "ا", "ل", "س", "\u{064E}", // Hebrew, Arabic, an Arabic combining mark
        "\u{1100}", "\u{1161}", "\u{11A8}", // Hangul jamo that compose into one syllable
        "\r", "\n", "\t", "\u{7}", "\u{1B}", "\u{85}", "\u{7F}", "\u{0}",
    ]

    static func randomKey(_ r: inout SplitMix64) -> Key {
        switch r.below(100) {
        case 0..<55: return .char(Character(r.pick(scalars)))
        case 55..<60: return .backspace
        case 60..<63: return .delete
        case 63..<68: return r.pick([.left, .right])
        case 68..<71: return r.pick([.home, .end])
        case 71..<74: return r.pick([.up, .down])
        case 74..<77: return .enter
        case 77..<80: return .newline
        case 80..<83: return .tab
        case 83..<85: return .escape
        case 85..<88: return r.pick([.pageUp, .pageDown, .wheelUp, .wheelDown, .backTab])
        case 88..<91: return .function(r.below(13))
        case 91..<95: return .ctrl(r.pick(["t", "b", "j", "a", "e", "u", "k", "w"]))
        default: return .ctrl(r.pick(["q", "c"]))
        }
    }

    static let sizes: [(Int, Int)] = [
        (80, 24), (80, 24), (81, 25), (100, 30), (119, 30), (120, 40), (121, 40), (160, 48), (300, 90),
        (79, 24), (80, 23), (1, 1), (0, 0), (-5, -5), (10, 3), (Int.max, 30), (60, Int.max), (100_000, 3), (3, 100_000),
    ]

    /// Checks one rendered screen; returns what is wrong, if anything.
    static func problems(_ screen: Screen) -> [String] {
        var out: [String] = []
        for r in 0..<screen.height {
            var row = ""
            for c in 0..<screen.width { row += screen[r, c].text }
            if DisplayWidth.of(row) > screen.width { out.append("row \(r) is \(DisplayWidth.of(row)) columns wide on a \(screen.width)-column screen: \(row)") }
        }
        if let c = screen.cursor, !(0..<screen.height).contains(c.row) || !(0..<screen.width).contains(c.column) {
            out.append("cursor \(c) outside the \(screen.width)x\(screen.height) screen")
        }
        return out
    }

    static func fieldProblems(_ t: TextInput, _ what: String) -> [String] {
        (0...t.text.count).contains(t.cursor) ? [] : ["\(what) cursor \(t.cursor) outside 0...\(t.text.count)"]
    }

    /// The caret of a one-line question that fits sits after the display width of the text before it.
    static func caretProblems(_ s: AppState, _ screen: Screen) -> [String] {
        guard !s.isTooSmall, s.review == nil, s.mode == .compose, let caret = screen.cursor,
              !s.input.text.contains(where: { $0 == "\n" }) else { return [] }
        let shown = TerminalText.inert(s.input.text)
        guard DisplayWidth.of(shown) < s.width - 2 else { return [] }
        let before = DisplayWidth.of(TerminalText.inert(String(s.input.text[..<s.input.cursorIndex])))
        return caret.column == 2 + before ? [] : ["caret at column \(caret.column), the text before it is \(before) columns wide"]
    }

    @Test("the interrogation screen (question, tagging, note) survives random keys, replies and resizes")
    func interrogation() throws {
        var r = SplitMix64(seed: 0x1D7E_4A11)
        let base = try UpdateTests.state()
        var failures: [String] = []
        for sequence in 0..<1000 where failures.isEmpty {
            var s = base
            var log: [String] = []
            for _ in 0..<40 {
                let action: Action
                switch r.below(100) {
                case 0..<80: action = .key(Self.randomKey(&r))
                case 80..<85:
                    let (w, h) = r.pick(Self.sizes)
                    action = .resize(width: w, height: h)
                case 85..<95 where s.streaming != nil:
                    let id = s.streaming!.id
                    let text = String((0..<r.below(6)).map { _ in Character(r.pick(Self.scalars)) })
                    let event: ChatEvent = r.pick([.text(text), .text(text), .reasoning(text), .finished(reason: "stop"),
                                                   .failed(.incomplete), .retrying(attempt: 1, afterSeconds: 1, reason: "HTTP 503")])
                    action = .model(streamId: id, event, at: .now)
                default: action = r.chance(50) ? .modelReady(base.info.suspect) : .key(.char("c"))
                }
                log.append("\(action)")
                // As the runtime does: a stream's start and stop are reported at once, an
                // append is reported saved (or, now and then, failed).
                var queue = [action]
                while !queue.isEmpty {
                    for effect in Update.update(&s, queue.removeFirst()) {
                        switch effect {
                        case .startStream(let id, _): queue.append(.streamStarted(streamId: id, at: .now))
                        case .cancelStream(let id): queue.append(.streamStopped(streamId: id, at: .now))
                        case .append: queue.append(r.chance(99) ? .saved(seq: r.below(1000)) : .saveFailed("disk full"))
                        case .prepareModel, .quit, .recordSignals: break
                        }
                    }
                }
                var found = Self.fieldProblems(s.input, "question")
                if case .note(_, let note) = s.mode { found += Self.fieldProblems(note, "note") }
                let screen = InterrogationView.view(s)
                found += Self.problems(screen) + Self.caretProblems(s, screen)
                if !found.isEmpty {
                    failures.append("sequence \(sequence): \(found.joined(separator: "; "))\nafter: \(log.joined(separator: ", "))")
                    break
                }
                if s.quitting { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.first ?? "")")
    }

    @Test("a terminal reporting an absurd size is drawn at the largest size kept, without trapping")
    func absurdSize() throws {
        var s = try UpdateTests.state()
        _ = Update.update(&s, .resize(width: Int.max, height: Int.max))
        #expect(s.width == Screen.maximumWidth && s.height == Screen.maximumHeight)
        let screen = InterrogationView.view(s)
        #expect(screen.width == Screen.maximumWidth && screen.height == Screen.maximumHeight)
        _ = Update.update(&s, .resize(width: Int.min, height: -1))
        #expect(s.width == 0 && s.height == 0)
        #expect(InterrogationView.view(s).text.isEmpty)
    }

    @Test("the start screen (scenario list, annotator id) survives random keys and resizes")
    func start() {
        var r = SplitMix64(seed: 0x5747_2A7)
        var failures: [String] = []
        for sequence in 0..<1000 where failures.isEmpty {
            var s = StartScreenTests.state()
            var log: [String] = []
            for _ in 0..<40 {
                let input: CursesTerminal.Input
                if r.chance(6) {
                    let (w, h) = r.pick(Self.sizes)
                    input = .resize(w, h)
                } else {
                    // Mostly editing the annotator id.
                    input = .key(r.chance(5) ? .char("a") : Self.randomKey(&r))
                }
                log.append("\(input)")
                StartUpdate.update(&s, input)
                let found = Self.fieldProblems(s.annotator, "annotator") + Self.problems(StartView.view(s))
                if !found.isEmpty {
                    failures.append("sequence \(sequence): \(found.joined(separator: "; "))\nafter: \(log.joined(separator: ", "))")
                    break
                }
                if s.outcome != nil { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.first ?? "")")
    }

    @Test("the adjudication reason survives random keys and resizes")
    func adjudicationReason() throws {
        var r = SplitMix64(seed: 0xAD7D)
        let base = try ReviewFlowTests.adjudication()
        var failures: [String] = []
        for sequence in 0..<300 where failures.isEmpty {
            var s = base
            var log: [String] = []
            for _ in 0..<40 {
                let action: Action = r.chance(6) ? { let (w, h) = r.pick(Self.sizes); return .resize(width: w, height: h) }()
                    : .key(r.chance(8) ? .enter : Self.randomKey(&r))
                if case .key(.ctrl) = action { continue } // Ctrl-Q ends the adjudication
                if case .key(.escape) = action, !s.draft.editingReason { continue }
                log.append("\(action)")
                _ = AdjudicationUpdate.update(&s, action)
                let found = Self.fieldProblems(s.draft.reason, "reason") + Self.problems(AdjudicationView.view(s))
                if !found.isEmpty {
                    failures.append("sequence \(sequence): \(found.joined(separator: "; "))\nafter: \(log.joined(separator: ", "))")
                    break
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.first ?? "")")
    }
}
