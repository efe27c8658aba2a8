import Foundation

// Events are flat JSON objects: the envelope keys (v, seq, ts, type) sit beside the body's keys.
extension TranscriptEvent: Codable {
    enum EnvelopeKeys: String, CodingKey { case v, seq, ts, type }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: EnvelopeKeys.self)
        version = try c.decode(Int.self, forKey: .v)
        seq = try c.decode(Int.self, forKey: .seq)
        timestamp = try c.decode(Date.self, forKey: .ts)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "header": body = .header(try SessionHeader(from: decoder))
        case "message": body = .message(try MessageEvent(from: decoder))
        case "annotation": body = .annotation(try AnnotationEvent(from: decoder))
        case "resumed": body = .resumed(try ResumedEvent(from: decoder))
        case "recovery": body = .recovery(try RecoveryEvent(from: decoder))
        case "session_end": body = .sessionEnd(try SessionEndEvent(from: decoder))
        case "review": body = .review(try ReviewHeader(from: decoder))
        case "adjudication": body = .adjudication(try AdjudicationEvent(from: decoder))
        case "judgement_failed": body = .judgementFailed(try JudgementFailedEvent(from: decoder))
        default: body = .unknown(type: type)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: EnvelopeKeys.self)
        try c.encode(version, forKey: .v)
        try c.encode(seq, forKey: .seq)
        try c.encode(timestamp, forKey: .ts)
        try c.encode(body.type, forKey: .type)
        switch body {
        case .header(let b): try b.encode(to: encoder)
        case .message(let b): try b.encode(to: encoder)
        case .annotation(let b): try b.encode(to: encoder)
        case .resumed(let b): try b.encode(to: encoder)
        case .recovery(let b): try b.encode(to: encoder)
        case .sessionEnd(let b): try b.encode(to: encoder)
        case .review(let b): try b.encode(to: encoder)
        case .adjudication(let b): try b.encode(to: encoder)
        case .judgementFailed(let b): try b.encode(to: encoder)
        case .unknown: break
        }
    }
}

/// The one JSON dialect of transcript files: snake_case keys, sorted, UTC timestamps with
/// milliseconds, one line per event.
public enum TranscriptCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatTimestamp(date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = parseTimestamp(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not an RFC 3339 UTC timestamp")
            }
            return date
        }
        return d
    }

    public static func formatTimestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    public static func parseTimestamp(_ s: String) -> Date? {
        if let d = Timestamp.parse(s) { return d }
        if let d = try? Date(s, strategy: .iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)) { return d }
        return try? Date(s, strategy: .iso8601)
    }
}

/// RFC 3339 timestamps as transcripts write them (`2026-11-28T10:15:30.123Z`, or with an
/// offset), read without a date formatter: one is on every line of every transcript, and
/// Foundation's ISO 8601 parser cost several microseconds each. Anything else (or an impossible
/// date) returns nil and is left to Foundation by `TranscriptCoding.parseTimestamp`.
enum Timestamp {
    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        var at = 0
        func digits(_ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                let d = b[i] &- 0x30
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            at += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard at < b.count, b[at] == c else { return false }
            at += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
              expect(0x54), let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2)
        else { return nil }
        var fraction = 0.0
        if at < b.count, b[at] == 0x2E {
            at += 1
            // Up to nanoseconds; further digits are below what a Date holds.
            var n = 0, scale = 1, count = 0
            while at < b.count, b[at] &- 0x30 < 10 {
                if count < 9 { n = n * 10 + Int(b[at] - 0x30); scale *= 10 }
                count += 1
                at += 1
            }
            guard count > 0 else { return nil }
            fraction = Double(n) / Double(scale)
        }
        var offset = 0
        if expect(0x5A) {
        } else if at < b.count, b[at] == 0x2B || b[at] == 0x2D {
            let sign = b[at] == 0x2D ? -1 : 1
            at += 1
            guard let oh = digits(2) else { return nil }
            _ = expect(0x3A)
            guard let om = digits(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else { return nil }
        guard at == b.count, (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + fraction)
    }
}
