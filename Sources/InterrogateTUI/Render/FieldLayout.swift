import Sessions

/// Lays out a `TextInput` by display width and says where its cursor falls, so that the
/// terminal caret sits on the character it belongs to whatever the text holds (accents,
/// wide characters, emoji, right-to-left letters).
enum FieldLayout {
    /// The text wrapped into lines of at most `width` columns, and the cursor as (line,
    /// column) with column always less than `width` (a cursor after a full line goes to the
    /// start of the next one).
    static func wrapped(_ input: TextInput, width: Int) -> (lines: [String], cursor: (row: Int, column: Int)) {
        guard width > 0 else { return ([""], (0, 0)) }
        var lines = [""]
        var used = 0
        var cursor = (row: 0, column: 0)
        let text = input.text
        let at = input.cursorIndex
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "\n" {
                if i == at { cursor = (lines.count - 1, used) }
                lines.append("")
                used = 0
            } else {
                let shown = TerminalText.inert(String(c))
                let w = DisplayWidth.of(shown)
                if used + w > width && used > 0 {
                    lines.append("")
                    used = 0
                }
                if i == at { cursor = (lines.count - 1, used) }
                if used + w <= width {
                    lines[lines.count - 1] += shown
                    used += w
                }
                // A character wider than the whole field is left out rather than overflowing it.
            }
            i = text.index(after: i)
        }
        if at == text.endIndex { cursor = (lines.count - 1, used) }
        if cursor.column >= width {
            lines.insert("", at: cursor.row + 1)
            cursor = (cursor.row + 1, 0)
        }
        return (lines, cursor)
    }

    /// One line of at most `width` columns scrolled sideways to keep the cursor in view, and
    /// the cursor's column in it (always less than `width`). Line breaks show as `↵`.
    static func line(_ input: TextInput, width: Int) -> (text: String, cursor: Int) {
        guard width > 0 else { return ("", 0) }
        let text = input.text
        let at = input.cursorIndex
        var pieces: [(String, Int)] = []
        var cursorPiece = 0
        var i = text.startIndex
        while i < text.endIndex {
            if i == at { cursorPiece = pieces.count }
            let c = text[i]
            let shown = c == "\n" ? "↵" : TerminalText.inert(String(c))
            pieces.append((shown, DisplayWidth.of(shown)))
            i = text.index(after: i)
        }
        if at == text.endIndex { cursorPiece = pieces.count }
        // Scroll right until the cursor's column is inside the field.
        var first = 0
        var before = pieces[..<cursorPiece].reduce(0) { $0 + $1.1 }
        while before > width - 1 && first < cursorPiece {
            before -= pieces[first].1
            first += 1
        }
        var out = ""
        var used = 0
        for (shown, w) in pieces[first...] {
            if used + w > width { break }
            out += shown
            used += w
        }
        return (out, before)
    }
}
