import Foundation

/// Something wrong in a transcript file, with the line it is on. The data is never changed
/// to make a problem go away; the problem is reported and the rest is read.
public struct TranscriptProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The last line has no newline: a write was cut short (a crash or power loss).
        case tornLastLine = "torn_last_line"
        /// An earlier torn line, ended by a later writer and recorded in a recovery event.
        case recoveredTornLine = "recovered_torn_line"
        /// A line that is not a valid event.
        case unreadable
        /// Sequence numbers out of order.
        case sequence
        /// A type or version this app does not know.
        case unknown
        /// Events that read but contradict each other or the files around them (an annotation
        /// of a message that does not exist, another rater's labels in a rater's file…).
        case inconsistent
        /// A blind copy from a team store (`SessionHeader.blindCopy`): read for review, never
        /// counted, since the model and condition are withheld from this reader.
        case blindCopy = "blind_copy"
    }

    public var file: String
    public var line: Int
    public var kind: Kind
    public var message: String

    public init(file: String, line: Int, kind: Kind, message: String) {
        self.file = file
        self.line = line
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }

    /// Problems that mean saved data may be missing, wrong or not understood by this version,
    /// as opposed to a torn line that a later writer recovered and recorded.
    public var isError: Bool { kind != .recoveredTornLine }
}

public struct TranscriptReadResult: Sendable {
    public var path: String
    public var events: [TranscriptEvent]
    /// The line number (from 1) of each event in `events`.
    public var lines: [Int]
    public var problems: [TranscriptProblem]

    public var header: SessionHeader? {
        if case .header(let h) = events.first?.body { return h }
        return nil
    }

    /// The header of a reviewer's or adjudicator's file.
    public var reviewHeader: ReviewHeader? {
        if case .review(let h) = events.first?.body { return h }
        return nil
    }
}

public enum TranscriptReader {
    /// The format's JSON Schema, read once: every line an event is checked against it, so that
    /// what `transcripts validate` rejects is never counted by another command.
    static let schema: JSONSchema? = try? TranscriptValidator().schema

    public static func read(path: String) throws(TranscriptError) -> TranscriptReadResult {
        // A folder where the file should be is refused by LineReader, once the file is open.
        guard let schema = schema else { throw .notFound("the transcript JSON Schema is missing from the installation") }
        var events: [TranscriptEvent] = []
        var lines: [Int] = []
        var problems: [TranscriptProblem] = []
        var badLines: [Int: String] = [:]
        var recoveredLines = Set<Int>()
        // Nil after a line that could not be read: the next event's number is not compared
        // with a guess, so one bad line is reported once.
        var lastSeq: Int? = 0
        // One room for the tokens of every line of the file.
        let tokens = JSONTape.Storage()
        do {
            try LineReader.forEachLineBytes(path: path) { data, number, terminated in
                if !terminated {
                    problems.append(.init(file: path, line: number, kind: .tornLastLine,
                                          message: "torn last line (\(data.count) bytes without a newline): a write was cut short; this event was not saved. Resuming the session keeps the fragment and continues after it"))
                    return true
                }
                if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    badLines[number] = "empty line"
                    lastSeq = nil
                    return true
                }
                do {
                    let tape = try JSONTape(data, into: tokens)
                    // A newer version's events are reported as such below; this version's
                    // must meet the schema (ids, required and unknown keys, unique labels).
                    let newer = tape.member(0, "v").flatMap { tape.int($0) }.map { $0 > TranscriptEvent.formatVersion } ?? false
                    if !newer, !schema.isValid(tape) {
                        badLines[number] = schema.validate(tape.value(0)).first?.description ?? "does not meet the transcript schema"
                        lastSeq = nil
                        return true
                    }
                    let event = try TranscriptEvent(tape: tape)
                    // Wrapping: a seq of Int.max in a file is reported, never trapped on.
                    if let last = lastSeq, event.seq != last &+ 1 {
                        problems.append(.init(file: path, line: number, kind: .sequence,
                                              message: last == Int.max ? "an event after sequence number \(last), the largest there is"
                                                  : "sequence number \(event.seq) follows \(last): events are missing or out of order"))
                    }
                    lastSeq = event.seq
                    if event.version > TranscriptEvent.formatVersion {
                        problems.append(.init(file: path, line: number, kind: .unknown,
                                              message: "format version \(event.version) is newer than this app reads (\(TranscriptEvent.formatVersion)); upgrade interrogate"))
                    }
                    if case .unknown(let type) = event.body {
                        problems.append(.init(file: path, line: number, kind: .unknown,
                                              message: "unknown event type '\(type)' (kept, not interpreted)"))
                    }
                    if case .recovery(let r) = event.body { recoveredLines.insert(r.tornLine) }
                    events.append(event)
                    lines.append(number)
                } catch {
                    badLines[number] = describe(error)
                    lastSeq = nil
                }
                return true
            }
        } catch let e as TranscriptError {
            throw e
        } catch {
            throw .system("cannot read \(path)", Int32(EIO))
        }
        for (line, why) in badLines {
            if recoveredLines.contains(line) {
                problems.append(.init(file: path, line: line, kind: .recoveredTornLine,
                                      message: "torn line from an interrupted write, kept as it was and recorded by a recovery event"))
            } else {
                problems.append(.init(file: path, line: line, kind: .unreadable, message: "not a valid event: \(why)"))
            }
        }
        problems.sort { $0.line < $1.line }
        return TranscriptReadResult(path: path, events: events, lines: lines, problems: problems)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let e as JSONParseError: return e.description
        case let e as EventDecodingError: return e.description
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing '\(snake((ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")))'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at '\(snake(ctx.codingPath.map(\.stringValue).joined(separator: ".")))': \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            let at = ctx.codingPath.isEmpty ? "" : " at '\(snake(ctx.codingPath.map(\.stringValue).joined(separator: ".")))'"
            return ctx.codingPath.isEmpty ? "not JSON" : "bad value\(at): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }

    private static func snake(_ s: String) -> String {
        var out = ""
        for c in s { if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } }
        return out
    }
}
