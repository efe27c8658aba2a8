import Foundation

/// Text being typed (the question, a note, a reason, an annotator id), with a cursor.
///
/// The cursor always sits between two characters (grapheme clusters) of `text`. It is kept
/// as a count of Unicode scalars and put back on a character boundary after every edit,
/// because what is typed can merge with its neighbour into one character: an `e` followed
/// by a combining accent, a skin-tone modifier after an emoji, a zero-width joiner, two
/// regional indicators typed one at a time (a flag). A cursor counted in characters would
/// point past the end after such a merge; this one cannot, and no edit traps.
struct TextInput: Equatable, Sendable {
    private(set) var text = ""
    /// Unicode scalars before the cursor; always on a character boundary of `text`.
    private var scalarsBefore = 0

    init() {}

    init(_ text: String) { insert(text) }

    var isEmpty: Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    /// Where the cursor is, as an index of `text` on a character boundary.
    var cursorIndex: String.Index { Self.boundary(in: text, atOrAfter: scalarsBefore).index }

    /// The characters before the cursor: always within `0...text.count`.
    var cursor: Int { text[..<cursorIndex].count }

    /// Inserts at the cursor and leaves the cursor after what was inserted (and after any
    /// character it merged with). Carriage returns become line breaks; other control
    /// characters are dropped: they cannot be shown, and a question or note has no use for them.
    mutating func insert(_ s: String) {
        let clean = Self.clean(s)
        guard !clean.isEmpty else { return }
        let at = cursorIndex
        let before = Self.scalars(text[..<at])
        text.insert(contentsOf: clean, at: at)
        place(before + clean.unicodeScalars.count)
    }

    /// Removes the character before the cursor (a whole flag, an accented letter, an emoji
    /// with its modifiers).
    mutating func backspace() {
        let at = cursorIndex
        guard at > text.startIndex else { return }
        let previous = text.index(before: at)
        let before = Self.scalars(text[..<previous])
        text.removeSubrange(previous..<at)
        place(before)
    }

    /// Removes the character after the cursor.
    mutating func delete() {
        let at = cursorIndex
        guard at < text.endIndex else { return }
        let before = Self.scalars(text[..<at])
        text.removeSubrange(at..<text.index(after: at))
        place(before)
    }

    mutating func left() {
        let at = cursorIndex
        guard at > text.startIndex else { return }
        place(Self.scalars(text[..<text.index(before: at)]))
    }

    mutating func right() {
        let at = cursorIndex
        guard at < text.endIndex else { return }
        place(Self.scalars(text[..<text.index(after: at)]))
    }

    /// To the start of the cursor's line.
    mutating func home() {
        var i = cursorIndex
        while i > text.startIndex {
            let previous = text.index(before: i)
            if text[previous] == "\n" { break }
            i = previous
        }
        place(Self.scalars(text[..<i]))
    }

    /// To the end of the cursor's line.
    mutating func end() {
        var i = cursorIndex
        while i < text.endIndex && text[i] != "\n" { i = text.index(after: i) }
        place(Self.scalars(text[..<i]))
    }

    mutating func clear() { text = ""; scalarsBefore = 0 }

    /// Puts the cursor at `scalars`, moved forward to the next character boundary if that
    /// falls inside a character, and never past the end.
    private mutating func place(_ scalars: Int) {
        scalarsBefore = Self.boundary(in: text, atOrAfter: scalars).scalars
    }

    private static func scalars(_ s: Substring) -> Int { s.unicodeScalars.count }

    /// The first character boundary at or after `scalars` Unicode scalars from the start.
    private static func boundary(in text: String, atOrAfter scalars: Int) -> (index: String.Index, scalars: Int) {
        var index = text.startIndex
        var counted = 0
        while counted < scalars && index < text.endIndex {
            let next = text.index(after: index)
            counted += text.unicodeScalars[index..<next].count
            index = next
        }
        return (index, counted)
    }

    static func clean(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var previousCR = false
        for scalar in s.unicodeScalars {
            defer { previousCR = scalar == "\r" }
            switch scalar.value {
            case 0x0A: if !previousCR { out.append(scalar) }
            case 0x0D: out.append("\n")
            case 0x00...0x1F, 0x7F...0x9F: continue
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
