import Foundation

/// Why bytes are not one JSON value, with the byte offset where reading stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "not JSON: \(reason) at byte \(offset + 1)" }
}

/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`. Foundation's decoder, asked type
/// by type for an untyped value, cost about twenty times more; this reads the text once into a
/// `JSONTape` (one grammar for both) and builds the value from it. Strict where a lenient
/// reading would count something the file does not clearly say: invalid UTF-8, control
/// characters in strings, lone surrogates, numbers out of range, a key given twice, trailing
/// bytes are all errors.
public enum JSONParser {
    /// Nesting deeper than this is refused rather than risking the stack on a hostile file.
    public static let maximumDepth = 512

    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = data.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try JSONTape(bytes).value(0)
    }
}
