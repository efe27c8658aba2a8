import Foundation

/// The question being typed: multi-line, with a cursor, edited by display characters.
struct TextInput: Equatable, Sendable {
    private(set) var text = ""
    /// Cursor position as a character offset into `text`.
    private(set) var cursor = 0

    var isEmpty: Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    mutating func insert(_ s: String) {
        let i = text.index(text.startIndex, offsetBy: cursor)
        text.insert(contentsOf: s, at: i)
        cursor += s.count
    }

    mutating func backspace() {
        guard cursor > 0 else { return }
        let i = text.index(text.startIndex, offsetBy: cursor - 1)
        text.remove(at: i)
        cursor -= 1
    }

    mutating func delete() {
        guard cursor < text.count else { return }
        text.remove(at: text.index(text.startIndex, offsetBy: cursor))
    }

    mutating func left() { cursor = max(0, cursor - 1) }
    mutating func right() { cursor = min(text.count, cursor + 1) }
    mutating func home() { cursor = lineStart() }
    mutating func end() {
        var i = cursor
        let chars = Array(text)
        while i < chars.count && chars[i] != "\n" { i += 1 }
        cursor = i
    }

    mutating func clear() { text = ""; cursor = 0 }

    private func lineStart() -> Int {
        let chars = Array(text)
        var i = cursor
        while i > 0 && chars[i - 1] != "\n" { i -= 1 }
        return i
    }
}
