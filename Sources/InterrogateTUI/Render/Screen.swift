/// A grid of styled cells: what a view produces and the renderer draws. A wide character
/// fills its cell and leaves the next one empty (`""`), as a terminal shows it.
struct Screen: Equatable, Sendable {
    struct Cell: Equatable, Sendable {
        var text: String = " "
        var role: Role = .text
    }

    let width: Int
    let height: Int
    private(set) var cells: [Cell]
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
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    subscript(row: Int, column: Int) -> Cell { cells[row * width + column] }

    /// Writes `text` from (row, column), clipped to `maxWidth` columns and the screen's edge.
    /// Model text must already be made inert; this only measures and clips. Returns the
    /// column after the last cell written.
    @discardableResult
    mutating func put(_ text: String, row: Int, column: Int, role: Role, maxWidth: Int? = nil) -> Int {
        guard row >= 0, row < height, column >= 0 else { return column }
        let limit = min(width, column + (maxWidth ?? width))
        var col = column
        for c in text {
            let w = DisplayWidth.of(c)
            if w == 0 { continue }
            if col + w > limit { break }
            cells[row * width + col] = Cell(text: String(c), role: role)
            if w == 2 { cells[row * width + col + 1] = Cell(text: "", role: role) }
            col += w
        }
        return col
    }

    mutating func fill(row: Int, from column: Int = 0, to end: Int? = nil, with ch: Character = " ", role: Role) {
        let from = max(0, column), to = min(width, end ?? width)
        guard row >= 0, row < height, from < to else { return }
        for col in from..<to { cells[row * width + col] = Cell(text: String(ch), role: role) }
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

    static func == (a: Screen, b: Screen) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells && a.cursorRow == b.cursorRow && a.cursorColumn == b.cursorColumn
    }
}
