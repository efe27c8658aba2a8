import Sessions

/// The conversation's messages wrapped to the screen's width, each once per width and kept,
/// so that a frame costs what it shows: a streamed token re-wraps its own message, typing
/// and scrolling wrap nothing, and a resize wraps only the messages on screen (the others
/// when they are scrolled to).
///
/// It is part of `AppState` and `update` keeps it (`keep`); the view draws from it. A message
/// it does not hold, or holds for another text or width, the view wraps itself, so the screen
/// is the same with or without it; that is why it takes no part in the state's equality.
struct ConversationLayout: Sendable, Equatable {
    /// One message, wrapped.
    struct Message: Sendable {
        /// What it was wrapped from.
        var text: String
        var streaming: Bool
        var width: Int
        var lines: [String]
        /// The text as shown (escapes made inert, tabs as spaces), measured for the next width.
        var words: DisplayWidth.Words
        /// The secret's patterns match the text (asked of finished model replies only).
        var suggestsLeak: Bool
        /// Where the last paragraph's lines begin, and for each of its lines the word it
        /// begins with on a line of its own (`DisplayWidth.wrap(paragraph:)`): a token
        /// streamed in wraps again from the last line that begins before the words it
        /// changes, not the lines before it.
        var lastParagraphLine: Int
        var lastParagraphStarts: [Int?]

        func fits(_ turn: AppState.Turn, width: Int) -> Bool {
            self.width == width && streaming == turn.isStreaming && text == turn.message.text
        }

        /// The head line, the wrapped text, a blank line.
        var lineCount: Int { lines.count + 2 }
    }

    private var messages: [Message?] = []
    private var panel: ScenarioPanel?

    static func == (_: ConversationLayout, _: ConversationLayout) -> Bool { true }

    /// Wraps one message to `width` columns. `before` is the same message wrapped to another
    /// width: whether it suggests a leak does not depend on the width, so a resize matches no
    /// secret pattern again (nor compiles them). Or `before` is the reply streaming in, before
    /// its latest tokens: only what they add is cut into words, and the reply is wrapped again
    /// from the last line that begins before the words they change (`restartLine`).
    static func wrap(_ turn: AppState.Turn, width: Int, before: Message? = nil, leaks: () -> LeakDetector) -> Message {
        let m = turn.message
        if let before, before.streaming == turn.isStreaming, before.text == m.text {
            return message(m.text, streaming: turn.isStreaming, width: width, words: before.words, suggestsLeak: before.suggestsLeak)
        }
        if let before, before.streaming, turn.isStreaming, before.width == width, !before.text.isEmpty, !before.lastParagraphStarts.isEmpty,
           m.text.utf8.count > before.text.utf8.count, m.text.utf8.starts(with: before.text.utf8) {
            let more = String(decoding: Array(m.text.utf8.dropFirst(before.text.utf8.count)), as: UTF8.self)
            let words = before.words.appending(DisplayWidth.shown(more))
            let line = restartLine(before.lastParagraphStarts, changed: before.words.firstWordCutAgain)
            let from = before.lastParagraphStarts[line] ?? 0
            let last = before.words.paragraphs.count - 1
            var lines = Array(before.lines[..<(before.lastParagraphLine + line)])
            var starts = Array(before.lastParagraphStarts[..<line])
            var lastLine = before.lastParagraphLine
            for (k, paragraph) in words.paragraphs[last...].enumerated() {
                let wrapped = DisplayWidth.wrap(paragraph: k == 0 ? paragraph[from...] : paragraph[...], width: width)
                if k > 0 { lastLine = lines.count; starts = [] }
                lines += wrapped.lines
                starts += wrapped.starts
            }
            return Message(text: m.text, streaming: true, width: width, lines: lines, words: words, suggestsLeak: false,
                           lastParagraphLine: lastLine, lastParagraphStarts: starts)
        }
        let text = DisplayWidth.shown(m.text)
        let words = DisplayWidth.Words(text.isEmpty && turn.isStreaming ? "…" : text)
        let suggests = m.role == .model && !turn.isStreaming && leaks().suggestsLeak(m.text)
        return message(m.text, streaming: turn.isStreaming, width: width, words: words, suggestsLeak: suggests)
    }

    /// The line of the last paragraph (given the word each line begins with) to wrap again
    /// from when words from `changed` on are cut again: the last that begins with a word before
    /// them, so that the line above it ended as it did; else the paragraph's first.
    static func restartLine(_ starts: [Int?], changed: Int) -> Int {
        starts.lastIndex { $0.map { $0 < changed } ?? false } ?? 0
    }

    private static func message(_ text: String, streaming: Bool, width: Int, words: DisplayWidth.Words, suggestsLeak: Bool) -> Message {
        var lines: [String] = []
        var last = (line: 0, starts: [Int?]())
        if width > 0 {
            for paragraph in words.paragraphs {
                let wrapped = DisplayWidth.wrap(paragraph: paragraph[...], width: width)
                last = (lines.count, wrapped.starts)
                lines += wrapped.lines
            }
        }
        return Message(text: text, streaming: streaming, width: width, lines: lines, words: words, suggestsLeak: suggestsLeak,
                       lastParagraphLine: last.line, lastParagraphStarts: last.starts)
    }

    /// Turn `i` wrapped to `width`: as kept, or wrapped now.
    func message(_ i: Int, of s: AppState, width: Int, leaks: () -> LeakDetector) -> Message {
        if i < messages.count, let kept = messages[i], kept.fits(s.turns[i], width: width) { return kept }
        return Self.wrap(s.turns[i], width: width, leaks: leaks)
    }

    /// The scenario panel at `width`: as kept, or made now.
    func panel(of s: AppState, width: Int, side: Bool) -> ScenarioPanel {
        if let panel, panel.fits(s, width: width, side: side) { return panel }
        return ScenarioPanel(s, width: width, side: side)
    }

    /// Makes and keeps the scenario panel the view of `s` shows, unless it is kept already.
    mutating func keepPanel(for s: AppState, width: Int, side: Bool) {
        if let panel, panel.fits(s, width: width, side: side) { return }
        panel = ScenarioPanel(s, width: width, side: side)
    }

    /// Wraps and keeps what the view of `s` will show (the messages from the newest up to the
    /// top of the window, and the reply being tagged), wrapping only those not kept already.
    mutating func keep(for s: AppState, width: Int, height: Int) {
        if messages.count > s.turns.count { messages.removeLast(messages.count - s.turns.count) }
        if messages.count < s.turns.count { messages.append(contentsOf: repeatElement(nil, count: s.turns.count - messages.count)) }
        var detector = LazyLeakDetector(s)
        func leaks() -> LeakDetector { detector.get() }
        _ = Self.window(of: s, height: height) { i in
            if let kept = messages[i], kept.fits(s.turns[i], width: width) { return kept }
            let fresh = Self.wrap(s.turns[i], width: width, before: messages[i], leaks: leaks)
            messages[i] = fresh
            return fresh
        }
    }

    /// The conversation lines on screen, counted from the end as the view scrolls up from
    /// the newest line; only the messages from the bottom up to the window's top (and the
    /// reply being tagged, kept in view) are looked at.
    struct Window {
        /// Lines of the conversation below the window.
        var scroll: Int
        /// Lines shown (the height, or fewer when the whole conversation fits).
        var rows: Int
        /// The messages that have lines in the window, from the newest up, with the number
        /// of conversation lines below each one's last line.
        var messages: [(turn: Int, message: Message, below: Int)]
    }

    static func window(of s: AppState, height: Int, message: (Int) -> Message) -> Window {
        let n = s.visibleTurns.count
        // While tagging an earlier reply, keep it in view.
        let tagged = s.taggedIndex.flatMap { index in s.firstTurn(0..<n) { s.turns[$0].message.index == index } }
        var walked: [(turn: Int, message: Message, below: Int)] = []
        var below = 0
        var taggedBelow = 0
        var i = n - 1
        while i >= 0 {
            if below >= s.scroll + height && (tagged.map { i < $0 } ?? true) { break }
            let m = message(i)
            walked.append((i, m, below))
            below += m.lineCount
            if i == tagged { taggedBelow = below }
            i -= 1
        }
        // All of it was counted: the window cannot scroll past the first line.
        let total: Int? = i < 0 ? below : nil
        var scroll = total.map { min(s.scroll, max(0, $0 - height)) } ?? s.scroll
        if tagged != nil, taggedBelow > scroll + height || taggedBelow <= scroll { scroll = max(0, taggedBelow - height) }
        let rows = total.map { min(height, $0 - scroll) } ?? height
        // Only the messages with a line in the window.
        let shown = walked.filter { $0.below < scroll + rows && $0.below + $0.message.lineCount > scroll }
        return Window(scroll: scroll, rows: rows, messages: shown)
    }

    /// The scenario's leak detector, made on first use: compiling its patterns is only worth
    /// it when a message has to be wrapped (and its leak badge decided) in this frame.
    struct LazyLeakDetector {
        private let state: AppState
        private var made: LeakDetector?
        init(_ state: AppState) { self.state = state }
        mutating func get() -> LeakDetector {
            if let made { return made }
            let fresh = state.info.scenario.leakDetector
            made = fresh
            return fresh
        }
    }
}
