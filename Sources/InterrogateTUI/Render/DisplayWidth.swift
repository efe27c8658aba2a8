import Foundation
import Sessions

/// How many terminal columns text takes. Measured per grapheme cluster: combining marks
/// and joiners take none, East Asian wide characters and emoji take two. Independent of the
/// process locale, so screens measure the same in tests and in a terminal.
enum DisplayWidth {
    static func of(_ c: Character) -> Int {
        let scalars = c.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.count == 1 && first.value < 0x7F { return first.value < 0x20 ? 0 : 1 }
        if scalars.contains(where: { $0.value == 0xFE0F || $0.value == 0x200D }) && scalars.contains(where: { $0.properties.isEmoji }) { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        return isWide(first.value) ? 2 : 1
    }

    static func of(_ s: some StringProtocol) -> Int { s.reduce(0) { $0 + of($1) } }

    private static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// The longest prefix of `s` that fits in `width` columns.
    static func prefix(_ s: some StringProtocol, fitting width: Int) -> String {
        var used = 0
        var out = ""
        for c in s {
            let w = of(c)
            if used + w > width { break }
            used += w
            out.append(c)
        }
        return out
    }

    /// `s` in exactly `width` columns: cut to fit, then padded with spaces. Columns of a
    /// table line up by display width, which a wide or accented name does not share with
    /// its count of characters or of UTF-16 units.
    static func padded(_ s: some StringProtocol, to width: Int) -> String {
        let fitting = prefix(s, fitting: width)
        let used = of(fitting)
        return used >= width ? fitting : fitting + String(repeating: " ", count: width - used)
    }

    /// `s` padded with spaces to at least `width` columns, never cut: a column of a text
    /// table that a longer cell pushes out of line still shows every figure whole.
    static func padded(_ s: some StringProtocol, toAtLeast width: Int) -> String {
        let used = of(s)
        return used >= width ? String(s) : s + String(repeating: " ", count: width - used)
    }

    /// Splits text into lines of at most `width` columns, at spaces where possible.
    static func wrap(_ text: String, width: Int) -> [String] {
        wrap(Words(text), width: width)
    }

    /// Text cut into words (each with the space that ends it) and measured once: wrapping it
    /// again to another width walks words, not grapheme clusters, which is what a resize of a
    /// long conversation costs.
    struct Words: Sendable, Equatable {
        struct Word: Sendable, Equatable {
            var text: String
            var width: Int
        }
        /// Never empty, nor is any paragraph: text cut at every line break, each piece into
        /// words; the last word of a paragraph is what follows its last space, maybe "".
        var paragraphs: [[Word]]

        init(_ text: String) {
            paragraphs = text.split(separator: "\n", omittingEmptySubsequences: false).map { paragraph in
                var words: [Word] = []
                var word = ""
                var wordWidth = 0
                for c in paragraph {
                    word.append(c); wordWidth += DisplayWidth.of(c)
                    if c == " " { words.append(Word(text: word, width: wordWidth)); word = ""; wordWidth = 0 }
                }
                words.append(Word(text: word, width: wordWidth))
                return words
            }
        }

        /// The words of this text with `more` appended, the same as cutting the whole again,
        /// but only the end is cut again: a streamed token is not measured with the whole reply
        /// (it still copies the last paragraph's words). The characters at the end can join the ones appended (an accent, a joiner,
        /// the second half of a flag), so the last word is cut again with them, and the one
        /// before it too when the last is empty (a space takes an accent). A character never
        /// joins across a space before that, nor across a line break.
        func appending(_ more: String) -> Words {
            var paragraphs = paragraphs
            var last = paragraphs.removeLast()
            let again = last.count - firstWordCutAgain
            let tail = last.suffix(again).map(\.text).joined() + more
            last.removeLast(again)
            let cut = Words(tail).paragraphs
            paragraphs.append(last + cut[0])
            paragraphs.append(contentsOf: cut.dropFirst())
            return Words(paragraphs: paragraphs)
        }

        /// The index, in the last paragraph, of the first word `appending` cuts again: every
        /// word before it stays as it is.
        var firstWordCutAgain: Int {
            let last = paragraphs[paragraphs.count - 1]
            return last.count - (last.count >= 2 && last[last.count - 1].text.isEmpty ? 2 : 1)
        }

        private init(paragraphs: [[Word]]) { self.paragraphs = paragraphs }
    }

    static func wrap(_ text: Words, width: Int) -> [String] {
        guard width > 0 else { return [] }
        return text.paragraphs.flatMap { wrap(paragraph: $0[...], width: width).lines }
    }

    /// Words of a paragraph (from any word of it) in lines of at most `width` (> 0) columns,
    /// at spaces where possible. `starts[i]` is the word line i begins with, when it begins
    /// with a whole word on a line of its own: wrapping again from that word gives the same
    /// lines from line i on (nil for a line that begins inside, or at the start of, a word too
    /// long for a line: not a line to start again from).
    static func wrap(paragraph: ArraySlice<Words.Word>, width: Int) -> (lines: [String], starts: [Int?]) {
        var lines: [String] = []
        var starts: [Int?] = [paragraph.startIndex]
        var line = ""
        var lineWidth = 0
        for (i, word) in zip(paragraph.indices, paragraph) {
            if lineWidth + word.width <= width {
                line += word.text; lineWidth += word.width
            } else if word.width <= width {
                lines.append(trimTrailing(line)); line = word.text; lineWidth = word.width
                starts.append(i)
            } else {
                // A word longer than the line is cut.
                for c in word.text {
                    let w = of(c)
                    if lineWidth + w > width { lines.append(trimTrailing(line)); line = ""; lineWidth = 0; starts.append(nil) }
                    line.append(c); lineWidth += w
                }
            }
        }
        lines.append(trimTrailing(line))
        return (lines, starts)
    }

    /// Model text as every screen shows it: made inert (escapes and controls as visible
    /// symbols) and each tab as four spaces. Scalar by scalar, so text shown in pieces (a
    /// reply streaming in) shows as the whole does; Foundation's replacing matches whole
    /// characters, and leaves a tab that an accent follows.
    static func shown(_ text: String) -> String {
        let inert = TerminalText.inert(text)
        guard inert.utf8.contains(0x09) else { return inert }
        var out = String.UnicodeScalarView()
        for s in inert.unicodeScalars {
            if s == "\t" { out.append(contentsOf: "    ".unicodeScalars) } else { out.append(s) }
        }
        return String(out)
    }

    private static func trimTrailing(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }
}
