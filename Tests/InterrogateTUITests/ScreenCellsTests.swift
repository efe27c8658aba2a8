import Annotate
import Testing
import TestSupport
@testable import InterrogateTUI

/// The grid keeps a cell in eight bytes and writes ASCII a byte at a time. A person must see
/// exactly what a grid of one `String` per cell, written a character at a time, showed:
/// the same character in every cell, the same colours, the same clipping, whatever the text.
@Suite("The screen's cells")
struct ScreenCellsTests {
    /// The grid as it was: one cell per column, each written from one character.
    struct Reference {
        var cells: [[Screen.Cell]]
        init(width: Int, height: Int) { cells = Array(repeating: Array(repeating: Screen.Cell(), count: width), count: height) }

        mutating func put(_ text: String, row: Int, column: Int, role: Role, maxWidth: Int? = nil) -> Int {
            let width = cells.first?.count ?? 0
            guard row >= 0, row < cells.count, column >= 0 else { return column }
            let limit = min(width, column + (maxWidth ?? width))
            var col = column
            for c in text {
                let w = DisplayWidth.of(c)
                if w == 0 { continue }
                if col + w > limit { break }
                cells[row][col] = Screen.Cell(text: String(c), role: role)
                if w == 2 { cells[row][col + 1] = Screen.Cell(text: "", role: role) }
                col += w
            }
            return col
        }
    }

    /// Pieces of text that test the grid: ASCII next to accents, joiners, flags, wide
    /// characters, CR LF (one character of two ASCII scalars), controls and DEL.
    static let pieces = [
        "a", "Z", " ", "~", "\r\n", "\r", "\n", "\t", "\u{7F}", "\u{1B}", "\u{0}", "e\u{301}", "\u{301}", "\u{200D}",
        "今", "日", "🔐", "👩‍💻", "🇫🇷", "❤️", "é", "─", "\u{FE0F}", "x\u{20DD}", "ก\u{E33}", "\u{1100}\u{1161}", "\u{600}1", "ﬃ",
    ]

    @Test("any text, anywhere, clipped anyhow, fills the same cells as one String per cell did")
    func cellsAsBefore() {
        var r = SplitMix64(seed: 0xCE11)
        for _ in 0..<3000 {
            let width = 1 + r.below(14), height = 1 + r.below(3)
            var screen = Screen(width: width, height: height)
            var reference = Reference(width: width, height: height)
            for _ in 0..<r.below(6) {
                let text = (0..<r.below(10)).map { _ in r.pick(Self.pieces) }.joined()
                let row = r.below(height + 1) - (r.below(8) == 0 ? 1 : 0)
                let column = r.below(width + 2)
                let maxWidth: Int? = r.below(3) == 0 ? nil : r.below(width + 1) - 1
                let role = r.pick([Role.text, .dim, .selected, .key, .leak])
                let got = screen.put(text, row: row, column: column, role: role, maxWidth: maxWidth)
                let want = reference.put(text, row: row, column: column, role: role, maxWidth: maxWidth)
                #expect(got == want, "\(text.debugDescription) at \(row),\(column) width \(String(describing: maxWidth))")
            }
            for row in 0..<height {
                for col in 0..<width {
                    // Scalar for scalar: String's == would take a composed accent for a decomposed one.
                    #expect(Array(screen[row, col].text.unicodeScalars) == Array(reference.cells[row][col].text.unicodeScalars), "\(row),\(col) of\n\(screen.text)")
                    #expect(screen[row, col].role == reference.cells[row][col].role)
                    #expect(screen.isWide(row: row, column: col) == (DisplayWidth.of(reference.cells[row][col].text) == 2))
                    #expect(screen.isRightHalf(row: row, column: col) == reference.cells[row][col].text.isEmpty)
                }
            }
        }
    }

    @Test("two frames with different accented or joined characters in the same cells are not the same frame")
    func clustersCompareByTheirText() {
        var a = Screen(width: 6, height: 1), b = Screen(width: 6, height: 1)
        // The same cluster index in both grids, holding different characters.
        a.put("e\u{301}", row: 0, column: 0, role: .text)
        b.put("a\u{301}", row: 0, column: 0, role: .text)
        #expect(a != b)
        #expect(ScreenDiff.spans(from: a, to: b) == [ScreenDiff.Span(row: 0, columns: 0..<1)])
        // The same character written in different order is the same frame.
        var c = Screen(width: 6, height: 1), d = Screen(width: 6, height: 1)
        c.put("👩‍💻", row: 0, column: 0, role: .text); c.put("🇫🇷", row: 0, column: 3, role: .text)
        d.put("🇫🇷", row: 0, column: 3, role: .text); d.put("👩‍💻", row: 0, column: 0, role: .text)
        #expect(c == d)
        #expect(ScreenDiff.spans(from: c, to: d).isEmpty)
        // A cluster drawn over, then the same frame again: still the same.
        c.put("ab", row: 0, column: 0, role: .text)
        d.put("ab", row: 0, column: 0, role: .text)
        #expect(c == d)
        #expect(c.text == "ab 🇫🇷")
    }

    @Test("a filled row shows its character in every cell, in its colour")
    func fillsRows() {
        var s = Screen(width: 5, height: 2)
        s.fill(row: 0, with: "─", role: .dim)
        s.fill(row: 1, from: 1, to: 3, role: .selected)
        #expect(s.text == "─────\n")
        #expect(s.roles == ".....\n SS")
        // A character two columns wide fits where it fits, as text put there does.
        s.fill(row: 1, with: "今", role: .key)
        #expect(s.text == "─────\n今今")
    }
}
