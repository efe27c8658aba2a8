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
        if let d = try? Date(s, strategy: .iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)) { return d }
        return try? Date(s, strategy: .iso8601)
    }
}
