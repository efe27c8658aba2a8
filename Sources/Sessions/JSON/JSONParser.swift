import Foundation

/// Why bytes are not one JSON value, with the byte offset where reading stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "not JSON: \(reason) at byte \(offset + 1)" }
}

/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`, written for the reader of studies:
/// every line of every transcript goes through it, and Foundation's decoder (asked type by type
/// for an untyped value) cost about twenty times more. Strict where a lenient reading would
/// count something the file does not clearly say: invalid UTF-8, control characters in strings,
/// lone surrogates, numbers out of range, a key given twice, trailing bytes are all errors.
public enum JSONParser {
    /// Nesting deeper than this is refused rather than risking the stack on a hostile file.
    public static let maximumDepth = 512

    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        do {
            return try data.withUnsafeBytes { raw in try parse(raw) }
        } catch let e as JSONParseError {
            throw e
        } catch {
            throw JSONParseError(offset: 0, reason: "\(error)")
        }
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        let value = try p.value(depth: 0)
        p.skipSpace()
        guard p.at == p.end else { throw p.error("bytes after the value") }
        return value
    }

    private struct Parser {
        let base: UnsafePointer<UInt8>?
        let end: Int
        var at = 0

        init(bytes: UnsafeRawBufferPointer) {
            base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            end = bytes.count
        }

        @inline(__always) func byte(_ i: Int) -> UInt8 { base![i] }

        func error(_ reason: String) -> JSONParseError { JSONParseError(offset: at, reason: reason) }

        @inline(__always) mutating func skipSpace() {
            while at < end {
                switch byte(at) {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard at < end else { throw error("the text ends where a value should be") }
            switch byte(at) {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard end - at >= n else { throw error("unexpected end") }
            let w = word.utf8Start
            for i in 0..<n where byte(at + i) != w[i] { throw error("unexpected character") }
            at += n
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nested deeper than \(JSONParser.maximumDepth) levels") }
            at += 1
            var o: [String: JSONValue] = [:]
            skipSpace()
            if at < end, byte(at) == UInt8(ascii: "}") { at += 1; return .object(o) }
            while true {
                guard at < end, byte(at) == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                let keyAt = at
                let key = try string()
                skipSpace()
                guard at < end, byte(at) == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                at += 1
                skipSpace()
                let v = try value(depth: depth)
                // A key given twice has no one meaning (readers disagree on which wins).
                if o.updateValue(v, forKey: key) != nil { throw JSONParseError(offset: keyAt, reason: "the key '\(key)' is given twice") }
                skipSpace()
                guard at < end else { throw error("the text ends inside an object") }
                if byte(at) == UInt8(ascii: ",") { at += 1; skipSpace(); continue }
                if byte(at) == UInt8(ascii: "}") { at += 1; return .object(o) }
                throw error("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nested deeper than \(JSONParser.maximumDepth) levels") }
            at += 1
            var a: [JSONValue] = []
            skipSpace()
            if at < end, byte(at) == UInt8(ascii: "]") { at += 1; return .array(a) }
            while true {
                a.append(try value(depth: depth))
                skipSpace()
                guard at < end else { throw error("the text ends inside an array") }
                if byte(at) == UInt8(ascii: ",") { at += 1; skipSpace(); continue }
                if byte(at) == UInt8(ascii: "]") { at += 1; return .array(a) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func number() throws(JSONParseError) -> JSONValue {
            let start = at
            var integral = true
            if byte(at) == UInt8(ascii: "-") { at += 1 }
            guard at < end, isDigit(byte(at)) else { throw error("a number needs a digit") }
            if byte(at) == UInt8(ascii: "0") {
                at += 1
                if at < end, isDigit(byte(at)) { throw error("a number may not start with 0") }
            } else {
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            if at < end, byte(at) == UInt8(ascii: ".") {
                integral = false
                at += 1
                guard at < end, isDigit(byte(at)) else { throw error("a digit must follow '.'") }
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            if at < end, byte(at) | 0x20 == UInt8(ascii: "e") {
                integral = false
                at += 1
                if at < end, byte(at) == UInt8(ascii: "+") || byte(at) == UInt8(ascii: "-") { at += 1 }
                guard at < end, isDigit(byte(at)) else { throw error("a digit must follow the exponent") }
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(start: base! + start, count: at - start), as: UTF8.self)
            if integral, let i = Int64(text) { return .int(i) }
            guard let d = Double(text), d.isFinite else { throw JSONParseError(offset: start, reason: "the number \(text) is out of range") }
            return .double(d)
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

        mutating func string() throws(JSONParseError) -> String {
            at += 1
            let start = at
            // The common case: no escapes. Scan to the closing quote, then validate UTF-8 once.
            while at < end {
                let b = byte(at)
                if b == UInt8(ascii: "\"") {
                    let bytes = UnsafeBufferPointer(start: base! + start, count: at - start)
                    at += 1
                    return try utf8(bytes, at: start)
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw error("a control character inside a string") }
                at += 1
            }
            guard at < end else { throw JSONParseError(offset: start - 1, reason: "a string without its closing quote") }
            var out = [UInt8]()
            out.reserveCapacity(at - start + 16)
            out.append(contentsOf: UnsafeBufferPointer(start: base! + start, count: at - start))
            while at < end {
                let b = byte(at)
                if b == UInt8(ascii: "\"") {
                    at += 1
                    return try out.withUnsafeBufferPointer { buffer throws(JSONParseError) in try utf8(buffer, at: start) }
                }
                if b < 0x20 { throw error("a control character inside a string") }
                if b != UInt8(ascii: "\\") { out.append(b); at += 1; continue }
                at += 1
                guard at < end else { break }
                let e = byte(at)
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard end - at >= 6, byte(at) == UInt8(ascii: "\\"), byte(at + 1) == UInt8(ascii: "u") else {
                            throw error("a lone surrogate \\u escape")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("a lone surrogate \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("a lone surrogate \\u escape")
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
                default:
                    throw error("an unknown escape")
                }
            }
            throw JSONParseError(offset: start - 1, reason: "a string without its closing quote")
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard end - at >= 4 else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = byte(at)
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw error("a \\u escape needs four hex digits")
                }
                v = v << 4 | UInt32(d)
                at += 1
            }
            return v
        }

        func utf8(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw JSONParseError(offset: offset, reason: "a string that is not valid UTF-8")
            }
            return s
        }
    }
}
