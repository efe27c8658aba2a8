import Annotate
import Sessions
import Testing
import TestSupport
@testable import InterrogateTUI

/// A streamed token cuts into words only what it adds and wraps only the reply's last
/// paragraph again. The reply must look exactly as the whole reply wrapped at once, however
/// the tokens split it: inside an accent, a joined emoji, a flag, an escape, a line break.
@Suite("A reply streaming in")
struct StreamedLayoutTests {
    static let pieces = [
        "word ", "a", "b", " ", "  ", "\n", "\n\n", "\t", "\u{1B}[31m", "\r", "\r\n", "e", "\u{301}", "\u{200D}", "👩", "💻",
        "🇫", "🇷", "今日は", "x", String(repeating: "long", count: 12), "\u{FE0F}", "❤", "\u{7F}", "ก", "\u{E33}",
        "\u{600}", "\u{1100}", "\u{1161}", "1", "\u{20E3}",
    ]

    @Test("whatever the tokens, the reply as streamed is wrapped as the whole reply is")
    func streamedWrapsAsWhole() {
        var r = SplitMix64(seed: 0x57BE_A11)
        var steps = 0
        for _ in 0..<400 {
            let width = 3 + r.below(30)
            var text = ""
            var kept: ConversationLayout.Message?
            for _ in 0..<(1 + r.below(40)) {
                text += (0..<(1 + r.below(3))).map { _ in r.pick(Self.pieces) }.joined()
                let turn = AppState.Turn(message: MessageEvent(index: 1, role: .model, text: text), isStreaming: true)
                let streamed = ConversationLayout.wrap(turn, width: width, before: kept) { .none }
                let whole = ConversationLayout.wrap(turn, width: width) { .none }
                #expect(streamed.lines == whole.lines, "\(text.debugDescription) at \(width)")
                #expect(streamed.words == whole.words, "\(text.debugDescription)")
                #expect(streamed.lastParagraphLine == whole.lastParagraphLine, "\(text.debugDescription)")
                #expect(streamed.lastParagraphStarts == whole.lastParagraphStarts, "\(text.debugDescription)")
                kept = streamed
                steps += 1
            }
            // Finished: wrapped whole, as any message.
            let done = AppState.Turn(message: MessageEvent(index: 1, role: .model, text: text, status: .complete))
            #expect(ConversationLayout.wrap(done, width: width, before: kept) { .none }.lines == ConversationLayout.wrap(done, width: width) { .none }.lines)
        }
        #expect(steps > 4000)
    }

    @Test("a token into a long paragraph wraps again from its last lines, not from the paragraph's start")
    func streamedRestartsNearTheEnd() {
        let words = (0..<400).map { "w\($0 % 10) " }.joined()
        var turn = AppState.Turn(message: MessageEvent(index: 1, role: .model, text: words), isStreaming: true)
        let before = ConversationLayout.wrap(turn, width: 40) { .none }
        #expect(before.lines.count > 20)
        let line = ConversationLayout.restartLine(before.lastParagraphStarts, changed: before.words.firstWordCutAgain)
        #expect(line >= before.lines.count - 2, "wraps again from line \(line) of \(before.lines.count)")
        // A line that begins inside a word too long for a line is never one to start from.
        #expect(ConversationLayout.restartLine([0, nil, 7, nil], changed: 9) == 2)
        #expect(ConversationLayout.restartLine([0, 3, 7], changed: 7) == 1, "the line above 7's ended as it did only if 7 is unchanged")
        #expect(ConversationLayout.restartLine([0, 3], changed: 0) == 0)
        turn.message.text += "end"
        #expect(ConversationLayout.wrap(turn, width: 40, before: before) { .none }.lines == ConversationLayout.wrap(turn, width: 40) { .none }.lines)
    }
}
