import Foundation
import Testing
@testable import InterrogateTUI
@testable import Sessions

/// Text fields with text that merges as it is typed: combining accents, emoji modifiers and
/// joiners, flags typed one regional indicator at a time.
@Suite("Text fields")
struct TextFieldTests {
    func press(_ s: inout AppState, _ keys: [Key]) { for k in keys { _ = Update.update(&s, .key(k)) } }

    @Test("typing café with a separate combining accent, then x, then Backspace leaves café and the cursor at its end")
    func cafeCombiningBackspace() throws {
        var s = try UpdateTests.state()
        press(&s, "cafe".map { .char($0) } + [.char("\u{301}"), .char("x"), .backspace])
        #expect(s.input.text == "cafe\u{301}")
        #expect(s.input.text == "café")
        #expect(s.input.cursor == 4)
        let screen = InterrogationView.view(s)
        #expect(screen.cursor?.row == 20 && screen.cursor?.column == 2 + 4)
        #expect(screen.text.split(separator: "\n", omittingEmptySubsequences: false)[20].hasPrefix("› café"))
    }

    @Test("the same in a note, the annotator id of the start screen, and an adjudication reason")
    func cafeInEveryField() throws {
        let keys: [Key] = "cafe".map { .char($0) } + [.char("\u{301}"), .char("x"), .backspace, .backspace, .char("e")]
        // Note: after a reply, n opens the note.
        var s = try UpdateTests.state()
        press(&s, "Code?".map { .char($0) } + [.enter])
        _ = Update.update(&s, .model(streamId: 1, .text("No."), at: .now))
        _ = Update.update(&s, .model(streamId: 1, .finished(reason: "stop"), at: .now))
        press(&s, [.char("n")] + keys)
        guard case .note(_, let note) = s.mode else { Issue.record("no note open: \(s.mode)"); return }
        #expect(note.text == "cafe" && note.cursor == 4)
        #expect(InterrogationView.view(s).cursor?.column == "Note › cafe".count)

        var start = StartScreenTests.state()
        StartUpdate.update(&start, .key(.char("a")))
        for k in [Key.backspace, .backspace, .backspace, .backspace, .backspace] + keys { StartUpdate.update(&start, .key(k)) }
        #expect(start.annotator.text == "cafe" && start.annotator.cursor == 4)

        var adj = try ReviewFlowTests.adjudication()
        _ = AdjudicationUpdate.update(&adj, .key(.enter))
        for k in keys { _ = AdjudicationUpdate.update(&adj, .key(k)) }
        #expect(adj.draft.reason.text == "cafe" && adj.draft.reason.cursor == 4)
        #expect(AdjudicationView.view(adj).cursor?.column == "Reason › cafe".count)
    }

    @Test("a flag typed as two regional indicators, a skin tone after an emoji, a ZWJ family: one character each, and the cursor after it")
    func mergingEmoji() {
        var t = TextInput()
        for scalar in ["\u{1F1EB}", "\u{1F1F7}"] { t.insert(scalar) }
        #expect(t.text == "🇫🇷" && t.text.count == 1 && t.cursor == 1)
        t.insert("\u{1F44D}")
        t.insert("\u{1F3FD}")
        #expect(t.text == "🇫🇷👍🏽" && t.cursor == 2)
        for scalar in ["\u{1F469}", "\u{200D}", "\u{1F469}", "\u{200D}", "\u{1F467}"] { t.insert(scalar) }
        #expect(t.text.count == 3 && t.cursor == 3)
        t.left()
        t.backspace()
        #expect(t.text == "🇫🇷👩‍👩‍👧" && t.cursor == 1)
        t.delete()
        #expect(t.text == "🇫🇷" && t.cursor == 1)
        t.home()
        // A regional indicator typed in front of a flag re-pairs the indicators; the cursor
        // moves to the end of what it merged into rather than into the middle of it.
        t.insert("\u{1F1E9}")
        #expect(t.cursor >= 0 && t.cursor <= t.text.count)
        t.end()
        #expect(t.cursor == t.text.count)
    }

    @Test("wide characters and accents put the caret where the text ends on screen")
    func caretByDisplayWidth() throws {
        var s = try UpdateTests.state()
        press(&s, "今日は e\u{301}".map { .char($0) } + [.char("\u{301}")])
        // 3 wide characters (6 columns), a space, e with two accents (1 column).
        #expect(InterrogationView.view(s).cursor?.column == 2 + 8)
        press(&s, [.left, .left])
        #expect(InterrogationView.view(s).cursor?.column == 2 + 6)
    }

    @Test("a question as wide as the box puts the caret on the next row, not past the edge")
    func caretAfterFullLine() throws {
        var s = try UpdateTests.state()
        press(&s, Array(repeating: Key.char("x"), count: 78))
        let screen = InterrogationView.view(s)
        #expect(screen.cursor?.row == 21 && screen.cursor?.column == 2)
    }

    @Test("control characters are not typed into a field; a carriage return is a line break")
    func controls() {
        var t = TextInput()
        t.insert("a\u{1B}[31mb\u{7}\r\nc\rd\u{85}")
        #expect(t.text == "a[31mb\nc\nd")
    }
}
