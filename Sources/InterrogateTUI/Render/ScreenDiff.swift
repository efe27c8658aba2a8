/// What a terminal must rewrite to go from the screen it shows to the next one: per row, the
/// columns from the first changed cell to the last. A frame equal to the last one rewrites
/// nothing, and a keystroke rewrites the rows it changed, not the whole screen.
enum ScreenDiff {
    struct Span: Equatable, Sendable {
        var row: Int
        var columns: Range<Int>
    }

    /// Every row, whole: nothing is known to be on the terminal (the first frame, a new size).
    static func everything(_ screen: Screen) -> [Span] {
        screen.width == 0 ? [] : (0..<screen.height).map { Span(row: $0, columns: 0..<screen.width) }
    }

    static func spans(from old: Screen?, to new: Screen) -> [Span] {
        guard let old, old.width == new.width, old.height == new.height else { return everything(new) }
        let width = new.width
        var spans: [Span] = []
        for row in 0..<new.height where !new.sameRow(row, as: old) {
            var first = 0
            while first < width && new.sameCell(row: row, column: first, as: old) { first += 1 }
            guard first < width else { continue }
            var last = width - 1
            while new.sameCell(row: row, column: last, as: old) { last -= 1 }
            // The right half of a wide character is drawn by writing the character,
            // one column to the left.
            while first > 0 && new.isRightHalf(row: row, column: first) { first -= 1 }
            // A wide character the terminal shows is broken when its left half is
            // written over; its right half is written again too.
            while last + 1 < width && old.isWide(row: row, column: last) { last += 1 }
            spans.append(Span(row: row, columns: first..<(last + 1)))
        }
        return spans
    }

    /// What the terminal is given for a cell: nothing for the right half of a wide character
    /// (writing the character filled it), a space for an empty cell left over when something
    /// narrower was drawn over a wide character, else the cell's text.
    static func text(_ screen: Screen, row: Int, column: Int) -> String? {
        guard screen.isRightHalf(row: row, column: column) else { return screen[row, column].text }
        return column > 0 && screen.isWide(row: row, column: column - 1) ? nil : " "
    }
}
