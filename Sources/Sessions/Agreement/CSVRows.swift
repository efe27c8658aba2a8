import Foundation

/// The rows of an RFC 4180 CSV text, read from its UTF-8 bytes: fields separated by commas,
/// rows by LF or CRLF (or CR), a field in double quotes may hold commas, newlines and `""` for a
/// quote; whitespace around a field (outside its quotes) is trimmed. A ratings file for a large
/// study has millions of rows, and reading them through `String` and `NSString` cost ten times
/// more than computing the agreement; this reads each byte once and makes a `String` only for
/// the fields a row keeps.
struct CSVRows {
    struct Failure: Error, CustomStringConvertible {
        var line: Int
        var description: String
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0
    /// The line the next row starts on (a quoted field may span lines).
    private(set) var line = 1

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // A byte order mark is not part of the first field.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
    }

    /// The next row's fields and the line it starts on, or nil at the end.
    mutating func next() throws(Failure) -> (fields: [String], line: Int)? {
        var fields: [String] = []
        guard let line = try next(into: &fields) else { return nil }
        return (fields, line)
    }

    /// The same into `fields` (emptied first), so that a reader of millions of rows reuses one
    /// array; returns the line the row starts on, or nil at the end.
    mutating func next(into fields: inout [String]) throws(Failure) -> Int? {
        guard at < bytes.count else { return nil }
        let start = line
        fields.removeAll(keepingCapacity: true)
        while true {
            fields.append(try field())
            guard at < bytes.count else { return start }
            let b = bytes[at]
            at += 1
            if b == UInt8(ascii: ",") { continue }
            // b is a line end: CRLF counts once.
            if b == 0x0D, at < bytes.count, bytes[at] == 0x0A { at += 1 }
            line += 1
            return start
        }
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// One field; `at` is left on the comma or line end after it (or the end of the text).
    private mutating func field() throws(Failure) -> String {
        while at < bytes.count, Self.isBlank(bytes[at]) { at += 1 }
        if at < bytes.count, bytes[at] == UInt8(ascii: "\"") {
            let opened = line
            at += 1
            var value: [UInt8] = []
            while true {
                guard at < bytes.count else { throw Failure(line: opened, description: "not valid CSV: a quoted field is never closed") }
                let b = bytes[at]
                at += 1
                if b == UInt8(ascii: "\"") {
                    if at < bytes.count, bytes[at] == UInt8(ascii: "\"") { value.append(b); at += 1; continue }
                    break
                }
                if b == 0x0A || (b == 0x0D && (at >= bytes.count || bytes[at] != 0x0A)) { line += 1 }
                value.append(b)
            }
            while at < bytes.count, Self.isBlank(bytes[at]) { at += 1 }
            guard at >= bytes.count || [UInt8(ascii: ","), 0x0A, 0x0D].contains(bytes[at]) else {
                throw Failure(line: line, description: "not valid CSV: characters after a closing quote")
            }
            return String(decoding: value, as: UTF8.self)
        }
        let start = at
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: ",") || b == 0x0A || b == 0x0D { break }
            if b == UInt8(ascii: "\"") { throw Failure(line: line, description: "not valid CSV: a quote inside a field that does not start with one") }
            at += 1
        }
        var end = at
        while end > start, Self.isBlank(bytes[end - 1]) { end -= 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        // Other Unicode spaces at the edges are trimmed as well (rare: only then is it searched).
        if end > start, bytes[start] >= 0x80 || bytes[end - 1] >= 0x80 { return text.trimmingCharacters(in: .whitespaces) }
        return text
    }
}
