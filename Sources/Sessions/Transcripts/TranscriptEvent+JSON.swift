import Annotate
import Foundation

/// Why a parsed line is not an event of this version, with the key path it is about.
struct EventDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Events read from a parsed line by their own snake_case keys: what a reader of a study does
/// for every line, so no key is converted and nothing is looked up twice. The Codable
/// conformance writes events; this reads them (tests check that one reads what the other wrote).
extension TranscriptEvent {
    init(json: JSONValue) throws(EventDecodingError) {
        let f = try Fields(json, path: "")
        version = try f.int("v")
        seq = try f.int("seq")
        timestamp = try f.timestamp("ts")
        let type = try f.string("type")
        switch type {
        case "header": body = .header(try SessionHeader(f))
        case "message": body = .message(try MessageEvent(f))
        case "annotation": body = .annotation(try AnnotationEvent(f))
        case "resumed": body = .resumed(ResumedEvent(app: try SessionHeader.App(f.fields("app")), annotator: try f.string("annotator")))
        case "recovery": body = .recovery(RecoveryEvent(tornLine: try f.int("torn_line"), tornBytes: try f.int("torn_bytes")))
        case "session_end": body = .sessionEnd(SessionEndEvent(reason: try f.string("reason")))
        case "review": body = .review(try ReviewHeader(f))
        case "adjudication": body = .adjudication(try AdjudicationEvent(f))
        default: body = .unknown(type: type)
        }
    }
}

/// An object's keys, with the path to it for messages.
struct Fields {
    let values: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, path: String) throws(EventDecodingError) {
        guard case .object(let o) = value else { throw EventDecodingError(description: "wrong type at '\(path)': expected an object") }
        values = o
        self.path = path
    }

    private func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) throws(EventDecodingError) -> JSONValue {
        guard let v = values[key], v != .null else { throw EventDecodingError(description: "missing '\(at(key))'") }
        return v
    }

    func wrong(_ key: String, _ expected: String) -> EventDecodingError {
        EventDecodingError(description: "wrong type at '\(at(key))': expected \(expected)")
    }

    func has(_ key: String) -> Bool { values[key].map { $0 != .null } ?? false }

    func string(_ key: String) throws(EventDecodingError) -> String {
        guard case .string(let s) = try value(key) else { throw wrong(key, "a string") }
        return s
    }

    func int(_ key: String) throws(EventDecodingError) -> Int {
        guard let i = try value(key).integer else { throw wrong(key, "a whole number") }
        return i
    }

    func double(_ key: String) throws(EventDecodingError) -> Double {
        guard let d = try value(key).number else { throw wrong(key, "a number") }
        return d
    }

    func bool(_ key: String) throws(EventDecodingError) -> Bool {
        guard case .bool(let b) = try value(key) else { throw wrong(key, "true or false") }
        return b
    }

    func strings(_ key: String) throws(EventDecodingError) -> [String] {
        guard case .array(let a) = try value(key) else { throw wrong(key, "an array") }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard case .string(let s) = v else { throw wrong(key, "an array of strings") }; out.append(s) }
        return out
    }

    func fields(_ key: String) throws(EventDecodingError) -> Fields { try Fields(value(key), path: at(key)) }

    func array(_ key: String) throws(EventDecodingError) -> [Fields] {
        guard case .array(let a) = try value(key) else { throw wrong(key, "an array") }
        var out: [Fields] = []
        for (i, v) in a.enumerated() { out.append(try Fields(v, path: "\(at(key)).\(i)")) }
        return out
    }

    func raw<T: RawRepresentable>(_ key: String, as: T.Type) throws(EventDecodingError) -> T where T.RawValue == String {
        let s = try string(key)
        guard let v = T(rawValue: s) else { throw EventDecodingError(description: "bad value at '\(at(key))': '\(s)' is not one this version knows") }
        return v
    }

    func timestamp(_ key: String) throws(EventDecodingError) -> Date {
        let s = try string(key)
        guard let d = Timestamp.parse(s) else { throw EventDecodingError(description: "bad value at '\(at(key))': '\(s)' is not an RFC 3339 UTC timestamp") }
        return d
    }

    func labels(_ key: String) throws(EventDecodingError) -> LabelSet {
        var set: [Label] = []
        for s in try strings(key) {
            guard let l = Label(rawValue: s) else { throw EventDecodingError(description: "bad value at '\(at(key))': '\(s)' is not a label") }
            set.append(l)
        }
        return LabelSet(set)
    }

    func optional<T>(_ key: String, _ read: (String) throws(EventDecodingError) -> T) throws(EventDecodingError) -> T? {
        has(key) ? try read(key) : nil
    }
}

extension SessionHeader {
    init(_ f: Fields) throws(EventDecodingError) {
        let s = try f.fields("scenario"), m = try f.fields("model")
        self.init(sessionId: try f.string("session_id"), app: try App(f.fields("app")), annotator: try f.string("annotator"),
                  scenario: ScenarioRecord(id: try s.string("id"), title: try s.string("title"), path: try s.string("path"),
                                           sha256: try s.string("sha256"), content: try s.string("content"),
                                           condition: try s.raw("condition", as: Scenario.Condition.self),
                                           systemPrompt: try s.string("system_prompt")),
                  model: ModelRecord(provider: try m.string("provider"), name: try m.string("name"),
                                     baseUrl: try m.optional("base_url", m.string),
                                     parameters: try ModelParameters(m.fields("parameters"))))
    }
}

extension SessionHeader.App {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(name: try f.string("name"), version: try f.string("version"))
    }
}

extension ModelParameters {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(temperature: try f.optional("temperature", f.double), topP: try f.optional("top_p", f.double),
                  maxTokens: try f.optional("max_tokens", f.int), seed: try f.optional("seed", f.int),
                  stop: try f.optional("stop", f.strings), logprobs: try f.optional("logprobs", f.bool),
                  topLogprobs: try f.optional("top_logprobs", f.int))
    }
}

extension MessageEvent {
    init(_ f: Fields) throws(EventDecodingError) {
        var usage: Usage?
        if f.has("usage") {
            let u = try f.fields("usage")
            usage = Usage(promptTokens: try u.optional("prompt_tokens", u.int), completionTokens: try u.optional("completion_tokens", u.int))
        }
        self.init(index: try f.int("index"), role: try f.raw("role", as: Role.self), text: try f.string("text"),
                  status: try f.optional("status") { (k: String) throws(EventDecodingError) in try f.raw(k, as: Status.self) },
                  reasoning: try f.optional("reasoning", f.string), finishReason: try f.optional("finish_reason", f.string),
                  error: try f.optional("error", f.string), modelReported: try f.optional("model_reported", f.string),
                  firstTokenMs: try f.optional("first_token_ms", f.double), totalMs: try f.optional("total_ms", f.double),
                  usage: usage)
    }
}

extension LeakDecision {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(suggested: try f.bool("suggested"), confirmed: try f.bool("confirmed"), matches: try f.strings("matches"))
    }
}

extension AnnotationEvent {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(messageIndex: try f.int("message_index"), rater: try f.string("rater"),
                  annotation: Annotation(labels: try f.labels("labels"), leak: try LeakDecision(f.fields("leak")),
                                         note: try f.optional("note", f.string)))
        primary = try f.optional("primary") { (k: String) throws(EventDecodingError) in try f.raw(k, as: Label.self) }
    }
}

extension ReviewHeader {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(sessionId: try f.string("session_id"), rater: try f.string("rater"), purpose: try f.raw("purpose", as: Purpose.self),
                  app: try SessionHeader.App(f.fields("app")), ownSession: try f.bool("own_session"))
    }
}

extension AdjudicationEvent {
    init(_ f: Fields) throws(EventDecodingError) {
        var ratings: [Rating] = []
        for r in try f.array("ratings") {
            ratings.append(Rating(rater: try r.string("rater"), labels: try r.labels("labels"), leak: try r.bool("leak")))
        }
        self.init(messageIndex: try f.int("message_index"), rater: try f.string("rater"), labels: try f.labels("labels"),
                  leak: try LeakDecision(f.fields("leak")), reason: try f.string("reason"), ratings: ratings)
        primary = try f.optional("primary") { (k: String) throws(EventDecodingError) in try f.raw(k, as: Label.self) }
    }
}
