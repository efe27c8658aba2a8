import Foundation

/// A grid of styled cells: what a view produces and the renderer draws. A wide character
/// fills its cell and leaves the next one empty (`""`), as a terminal shows it.
struct Screen: Equatable, Sendable {
    struct Cell: Equatable, Sendable {
        var text: String = " "
        var role: Role = .text
    }

    /// A cell as the grid keeps it, in eight bytes and no reference: a frame fills and
    /// compares twelve thousand of them, and a `String` per cell made that most of its cost.
    /// `code` is the cell's Unicode scalar (nearly every cell is one), `empty` for the right
    /// half of a wide character, or `cluster` plus an index into `clusters` for a character
    /// of several scalars (an accent, a flag, an emoji sequence).
    fileprivate struct Stored: Equatable {
        var code: UInt32
        var role: Role
        var wide: Bool
        /// Zero: every byte is a field, so rows compare as memory.
        var unused: UInt16 = 0

        static let empty: UInt32 = 0x11_0000
        static let cluster: UInt32 = 0x8000_0000
        static let blank = Stored(code: 0x20, role: .text, wide: false)

        var isCluster: Bool { code & Self.cluster != 0 }
    }

    let width: Int
    let height: Int
    private var stored: [Stored]
    /// The characters of several scalars written, by the index their cells hold.
    private var clusters: [String] = []
    /// Where the terminal cursor goes (the input caret), if shown.
    var cursor: (row: Int, column: Int)? {
        get { cursorRow.map { ($0, cursorColumn) } }
        set { cursorRow = newValue?.row; cursorColumn = newValue?.column ?? 0 }
    }
    private var cursorRow: Int?
    private var cursorColumn = 0

    /// The largest screen drawn; a terminal reporting more (or a negative size) is taken
    /// at this size, so that a wild resize cannot exhaust memory or trap.
    static let maximumWidth = 1000
    static let maximumHeight = 1000

    static func clamped(width: Int, height: Int) -> (width: Int, height: Int) {
        (min(max(0, width), maximumWidth), min(max(0, height), maximumHeight))
    }

    init(width: Int, height: Int) {
        (self.width, self.height) = Self.clamped(width: width, height: height)
        stored = Array(repeating: .blank, count: self.width * self.height)
    }

    subscript(row: Int, column: Int) -> Cell {
        let i = row * width + column
        return Cell(text: text(of: stored[i]), role: stored[i].role)
    }

    private func text(of cell: Stored) -> String {
        if cell.isCluster { return clusters[Int(cell.code & ~Stored.cluster)] }
        if cell.code < 0x80 { return Self.ascii[Int(cell.code)] }
        if cell.code == Stored.empty { return "" }
        return Unicode.Scalar(cell.code).map { String(Character($0)) } ?? " "
    }

    /// The text of an ASCII cell, made once: the renderer asks for every cell it rewrites.
    private static let ascii: [String] = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }

    /// Whether the cell shows a character two columns wide (its right half is the next cell).
    func isWide(row: Int, column: Int) -> Bool { stored[row * width + column].wide }
    /// Whether the cell is the right half of a wide character.
    func isRightHalf(row: Int, column: Int) -> Bool { stored[row * width + column].code == Stored.empty }

    /// Writes `text` from (row, column), clipped to `maxWidth` columns and the screen's edge.
    /// Model text must already be made inert; this only measures and clips. Returns the
    /// column after the last cell written.
    @discardableResult
    mutating func put(_ text: String, row: Int, column: Int, role: Role, maxWidth: Int? = nil) -> Int {
        guard row >= 0, row < height, column >= 0 else { return column }
        let limit = min(width, column + (maxWidth ?? width))
        let base = row * width
        var col = column
        let utf8 = text.utf8
        var i = utf8.startIndex
        let end = utf8.endIndex
        while i < end, col < limit {
            let byte = utf8[i]
            let next = utf8.index(after: i)
            // Two ASCII scalars always have a character boundary between them, but for CR LF:
            // the common case is measured a byte at a time, the rest as characters.
            if byte < 0x80, byte != 0x0D, next == end || utf8[next] < 0x80 {
                if byte >= 0x20 && byte != 0x7F {
                    stored[base + col] = Stored(code: UInt32(byte), role: role, wide: false)
                    col += 1
                }
                i = next
                continue
            }
            let c = text[i]
            i = text.index(after: i)
            let w = DisplayWidth.of(c)
            if w == 0 { continue }
            if col + w > limit { break }
            let scalars = c.unicodeScalars
            let code: UInt32
            if scalars.count == 1, let only = scalars.first {
                code = only.value
            } else {
                code = Stored.cluster | UInt32(clusters.count)
                clusters.append(String(c))
            }
            stored[base + col] = Stored(code: code, role: role, wide: w == 2)
            if w == 2 { stored[base + col + 1] = Stored(code: Stored.empty, role: role, wide: false) }
            col += w
        }
        return col
    }

    mutating func fill(row: Int, from column: Int = 0, to end: Int? = nil, with ch: Character = " ", role: Role) {
        let from = max(0, column), to = min(width, end ?? width)
        guard row >= 0, row < height, from < to else { return }
        if ch.unicodeScalars.count == 1, let only = ch.unicodeScalars.first, DisplayWidth.of(ch) == 1 {
            let cell = Stored(code: only.value, role: role, wide: false)
            for col in from..<to { stored[row * width + col] = cell }
        } else {
            // A wide character as often as it fits; a character of no width, nowhere.
            var col = from
            while col < to {
                let next = put(String(ch), row: row, column: col, role: role, maxWidth: to - col)
                if next == col { break }
                col = next
            }
        }
    }

    /// A hint bar: each key, then what it does, while they fit.
    mutating func putHints(_ hints: [(key: String, action: String)], row: Int) {
        var c = 1
        for (k, a) in hints {
            guard c + DisplayWidth.of(k) + DisplayWidth.of(a) + 3 <= width else { break }
            c = put(k, row: row, column: c, role: .key)
            c = put(" \(a)  ", row: row, column: c, role: .dim)
        }
    }

    /// A table with a header row at `top` and a selected row kept in view among `visible` rows.
    mutating func putTable(header: [String], rows: [[String]], selected: Int, top: Int, visible: Int) {
        let lines = Table(header: header, rows: rows).render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        put(" " + lines[0], row: top, column: 0, role: .key, maxWidth: width)
        let first = max(0, min(selected - visible / 2, rows.count - visible))
        for (offset, i) in (first..<min(rows.count, first + visible)).enumerated() {
            let on = i == selected
            if on { fill(row: top + 1 + offset, role: .selected) }
            put(" " + lines[i + 1], row: top + 1 + offset, column: 0, role: on ? .selected : .text, maxWidth: width)
        }
    }

    /// The whole screen says the terminal is too small, on the middle row.
    static func tooSmall(width: Int, height: Int, note: String = "") -> Screen {
        var screen = Screen(width: width, height: height)
        let line = "Terminal too small: \(width)×\(height); needs \(AppState.minimumWidth)×\(AppState.minimumHeight)." + (note.isEmpty ? "" : " " + note)
        screen.put(DisplayWidth.prefix(line, fitting: width), row: height / 2, column: 0, role: .warning)
        return screen
    }

    /// The screen as text, one line per row, for snapshots.
    var text: String {
        (0..<height).map { r in
            var line = ""
            for c in 0..<width { line += self[r, c].text }
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// One letter per cell naming its role, for snapshots of styling.
    var roles: String {
        (0..<height).map { r in
            var line = String((0..<width).map { self[r, $0].role.rawValue })
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Whether cell `i` shows the same here as in `other` (a screen of the same size).
    fileprivate func sameCell(_ i: Int, as other: Screen) -> Bool {
        let a = stored[i], b = other.stored[i]
        if !a.isCluster && !b.isCluster { return a == b }
        return a.role == b.role && text(of: a) == other.text(of: b)
    }

    /// Whether row `row` shows the same here as in `other` (a screen of the same size).
    func sameRow(_ row: Int, as other: Screen) -> Bool {
        guard width > 0 else { return true }
        let range = row * width..<(row + 1) * width
        // Rows compare as memory only while every byte of a cell is one of its fields.
        assert(MemoryLayout<Stored>.size == MemoryLayout<Stored>.stride)
        if clusters.isEmpty && other.clusters.isEmpty {
            return stored.withUnsafeBytes { a in
                other.stored.withUnsafeBytes { b in
                    let stride = MemoryLayout<Stored>.stride
                    return memcmp(a.baseAddress! + range.lowerBound * stride, b.baseAddress! + range.lowerBound * stride, range.count * stride) == 0
                }
            }
        }
        return range.allSatisfy { sameCell($0, as: other) }
    }

    /// Whether (row, column) shows the same here as in `other` (a screen of the same size).
    func sameCell(row: Int, column: Int, as other: Screen) -> Bool { sameCell(row * width + column, as: other) }

    static func == (a: Screen, b: Screen) -> Bool {
        a.width == b.width && a.height == b.height && a.cursorRow == b.cursorRow && a.cursorColumn == b.cursorColumn
            && (0..<a.height).allSatisfy { a.sameRow($0, as: b) }
    }
}
