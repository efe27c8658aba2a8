import Annotate
import Foundation

/// Values a line names with a string that every line of a kind has (a message's role and
/// status, a rating's primary label): read from the bytes, without making a String of each.
protocol NamedOnTape: RawRepresentable, CaseIterable where RawValue == String {
    static var namesOnTape: [(StaticBytes, Self)] { get }
}

extension NamedOnTape {
    /// Each case's name in bytes that are never freed.
    static func makeNamesOnTape() -> [(StaticBytes, Self)] { allCases.map { (StaticBytes($0.rawValue), $0) } }
}

extension MessageEvent.Role: NamedOnTape { static let namesOnTape = makeNamesOnTape() }
extension MessageEvent.Status: NamedOnTape { static let namesOnTape = makeNamesOnTape() }
extension Label: NamedOnTape { static let namesOnTape = makeNamesOnTape() }

/// Why a parsed line is not an event of this version, with the key path it is about.
struct EventDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Events read from a parsed line by their own snake_case keys: what a reader of a study does
/// for every line, so no key is converted and nothing is looked up twice. The Codable
/// conformance writes events; this reads them (tests check that one reads what the other wrote).
extension TranscriptEvent {
    init(tape: JSONTape) throws(EventDecodingError) {
        var cursor = JSONTape.Cursor()
        self = try withUnsafeMutablePointer(to: &cursor) { (cursor) throws(EventDecodingError) in
            try withUnsafePointer(to: tape) { (tape) throws(EventDecodingError) in try TranscriptEvent(Fields(tape, 0, cursor: cursor, path: "")) }
        }
    }

    private init(_ f: Fields) throws(EventDecodingError) {
        // In the order the keys are written.
        seq = try f.int("seq")
        timestamp = try f.timestamp("ts")
        let typeValue = try f.value("type")
        let type = try EventType(f, typeValue)
        version = try f.int("v")
        switch type {
        case .header: body = .header(try SessionHeader(f))
        case .message: body = .message(try MessageEvent(f))
        case .annotation: body = .annotation(try AnnotationEvent(f))
        case .resumed: body = .resumed(ResumedEvent(app: try SessionHeader.App(f.fields("app")), annotator: try f.string("annotator")))
        case .recovery: body = .recovery(RecoveryEvent(tornLine: try f.int("torn_line"), tornBytes: try f.int("torn_bytes")))
        case .sessionEnd: body = .sessionEnd(SessionEndEvent(reason: try f.string("reason")))
        case .review: body = .review(try ReviewHeader(f))
        case .adjudication: body = .adjudication(try AdjudicationEvent(f))
        case .judgementFailed:
            body = .judgementFailed(JudgementFailedEvent(messageIndex: try f.int("message_index"), rater: try f.string("rater"),
                                                         error: try f.string("error"), raw: try f.optional("raw", f.string),
                                                         attempts: try f.int("attempts")))
        case nil: body = .unknown(type: try f.string("type", typeValue))
        }
    }

    /// A line's `type`, told from its bytes; nil for a type this version does not know.
    private enum EventType: String, CaseIterable, NamedOnTape {
        case header, message, annotation, resumed, recovery, review, adjudication
        case sessionEnd = "session_end", judgementFailed = "judgement_failed"
        static let namesOnTape = makeNamesOnTape()

        init?(_ f: Fields, _ v: Int) throws(EventDecodingError) {
            if f.tape.kind(v) == .string, !f.tape.tokens[v].flag {
                guard let known = Self.namesOnTape.first(where: { f.tape.stringEquals(v, $0.0.bytes) }) else { return nil }
                self = known.1
            } else {
                self.init(rawValue: try f.string("type", v))
            }
        }
    }
}

/// An object of a tape, with the path to it for messages.
///
/// It points to its tape, which the caller keeps (one event's decoding): holding the tape
/// itself, each of the several objects of every line retained and released its tokens.
struct Fields {
    private let pointer: UnsafePointer<JSONTape>
    var tape: JSONTape { unsafeAddress { pointer } }
    let token: Int
    /// Shared by the objects of one event: where the next search for a key starts.
    private let cursor: UnsafeMutablePointer<JSONTape.Cursor>
    /// The path is spelled out only for a message: every line has nested objects, and making
    /// their paths cost an allocation each.
    private let parent: String
    private let name: StaticString?
    private let item: Int?

    var path: String {
        guard let name else { return parent }
        let named = parent.isEmpty ? "\(name)" : "\(parent).\(name)"
        return item.map { "\(named).\($0)" } ?? named
    }

    init(_ tape: UnsafePointer<JSONTape>, _ token: Int, cursor: UnsafeMutablePointer<JSONTape.Cursor>, path: String) throws(EventDecodingError) {
        try self.init(tape, token, cursor: cursor, parent: path, name: nil, item: nil)
    }

    private init(_ tape: UnsafePointer<JSONTape>, _ token: Int, cursor: UnsafeMutablePointer<JSONTape.Cursor>,
                 parent: String, name: StaticString?, item: Int?) throws(EventDecodingError) {
        pointer = tape
        self.token = token
        self.cursor = cursor
        self.parent = parent
        self.name = name
        self.item = item
        guard tape.pointee.kind(token) == .object else { throw EventDecodingError(description: "wrong type at '\(path)': expected an object") }
    }

    private func at(_ key: StaticString) -> String { path.isEmpty ? "\(key)" : "\(path).\(key)" }

    /// The value of `key`, nil when it is absent or null (looked up once, whatever is read from it).
    func present(_ key: StaticString) -> Int? {
        guard let v = tape.member(token, key, cursor: &cursor.pointee), tape.kind(v) != .null else { return nil }
        return v
    }

    func value(_ key: StaticString) throws(EventDecodingError) -> Int {
        guard let v = present(key) else { throw EventDecodingError(description: "missing '\(at(key))'") }
        return v
    }

    func wrong(_ key: StaticString, _ expected: String) -> EventDecodingError {
        EventDecodingError(description: "wrong type at '\(at(key))': expected \(expected)")
    }

    func has(_ key: StaticString) -> Bool { present(key) != nil }

    // Each reader of a key, and the same given the key's value (what `optional` found).

    func string(_ key: StaticString) throws(EventDecodingError) -> String { try string(key, value(key)) }
    func string(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> String {
        guard tape.kind(v) == .string else { throw wrong(key, "a string") }
        return tape.string(v)
    }

    func int(_ key: StaticString) throws(EventDecodingError) -> Int { try int(key, value(key)) }
    func int(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> Int {
        guard let i = tape.int(v) else { throw wrong(key, "a whole number") }
        return i
    }

    func double(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> Double {
        guard let d = tape.double(v) else { throw wrong(key, "a number") }
        return d
    }

    func bool(_ key: StaticString) throws(EventDecodingError) -> Bool { try bool(key, value(key)) }
    func bool(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> Bool {
        guard tape.kind(v) == .bool else { throw wrong(key, "true or false") }
        return tape.tokens[v].flag
    }

    func strings(_ key: StaticString) throws(EventDecodingError) -> [String] { try strings(key, value(key)) }
    func strings(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> [String] {
        guard tape.kind(v) == .array else { throw wrong(key, "an array") }
        var out: [String] = []
        for i in tape.items(v) {
            guard tape.kind(i) == .string else { throw wrong(key, "an array of strings") }
            out.append(tape.string(i))
        }
        return out
    }

    func fields(_ key: StaticString) throws(EventDecodingError) -> Fields { try fields(key, value(key)) }
    func fields(_ key: StaticString, _ v: Int) throws(EventDecodingError) -> Fields {
        try Fields(pointer, v, cursor: cursor, parent: name == nil ? parent : path, name: key, item: nil)
    }

    func array(_ key: StaticString) throws(EventDecodingError) -> [Fields] {
        let v = try value(key)
        guard tape.kind(v) == .array else { throw wrong(key, "an array") }
        var out: [Fields] = []
        let here = name == nil ? parent : path
        for (n, i) in tape.items(v).enumerated() { out.append(try Fields(pointer, i, cursor: cursor, parent: here, name: key, item: n)) }
        return out
    }

    func raw<T: RawRepresentable>(_ key: StaticString, as type: T.Type) throws(EventDecodingError) -> T where T.RawValue == String {
        try raw(key, value(key), as: type)
    }
    func raw<T: NamedOnTape>(_ key: StaticString, as type: T.Type) throws(EventDecodingError) -> T {
        try raw(key, value(key), as: type)
    }
    /// Found by comparing the bytes with each name; a name written with escapes, or none of
    /// them, is read as a String.
    func raw<T: NamedOnTape>(_ key: StaticString, _ v: Int, as type: T.Type) throws(EventDecodingError) -> T {
        if tape.kind(v) == .string, !tape.tokens[v].flag {
            for (name, value) in T.namesOnTape where tape.stringEquals(v, name.bytes) { return value }
        }
        return try rawByString(key, v, as: type)
    }
    func raw<T: RawRepresentable>(_ key: StaticString, _ v: Int, as type: T.Type) throws(EventDecodingError) -> T where T.RawValue == String {
        try rawByString(key, v, as: type)
    }
    private func rawByString<T: RawRepresentable>(_ key: StaticString, _ v: Int, as: T.Type) throws(EventDecodingError) -> T where T.RawValue == String {
        let s = try string(key, v)
        guard let value = T(rawValue: s) else { throw EventDecodingError(description: "bad value at '\(at(key))': '\(s)' is not one this version knows") }
        return value
    }

    func timestamp(_ key: StaticString) throws(EventDecodingError) -> Date {
        let v = try value(key)
        guard tape.kind(v) == .string else { throw wrong(key, "a string") }
        if !tape.tokens[v].flag, let d = Timestamp.parse(tape.raw(v).assumingMemoryBound(to: UInt8.self)) { return d }
        let s = tape.string(v)
        guard let d = TranscriptCoding.parseTimestamp(s) else { throw EventDecodingError(description: "bad value at '\(at(key))': '\(s)' is not an RFC 3339 UTC timestamp") }
        return d
    }

    /// Read from the bytes of each name: every rating has a list of labels.
    func labels(_ key: StaticString) throws(EventDecodingError) -> LabelSet {
        let v = try value(key)
        guard tape.kind(v) == .array else { throw wrong(key, "an array") }
        // Every item a string first, then every string a label: the first error said is the
        // one it always was.
        var i = v + 1
        for _ in 0..<tape.tokens[v].count {
            guard tape.kind(i) == .string else { throw wrong(key, "an array of strings") }
            i = Int(tape.tokens[i].next)
        }
        var set = LabelSet()
        i = v + 1
        for _ in 0..<tape.tokens[v].count {
            guard let l = Self.labelNames.first(where: { tape.stringEquals(i, $0.name.bytes) })?.label else {
                throw EventDecodingError(description: "bad value at '\(at(key))': '\(tape.string(i))' is not a label")
            }
            set.insert(l)
            i = Int(tape.tokens[i].next)
        }
        return set
    }

    private static let labelNames = Label.allCases.map { (name: StaticBytes($0.rawValue), label: $0) }

    /// `read` of the key's value; nil when the key is absent or null.
    func optional<T>(_ key: StaticString, _ read: (StaticString, Int) throws(EventDecodingError) -> T) throws(EventDecodingError) -> T? {
        guard let v = present(key) else { return nil }
        return try read(key, v)
    }
}

extension SessionHeader {
    init(_ f: Fields) throws(EventDecodingError) {
        let s = try f.fields("scenario")
        self.init(sessionId: try f.string("session_id"), app: try App(f.fields("app")), annotator: try f.string("annotator"),
                  scenario: ScenarioRecord(id: try s.string("id"), title: try s.string("title"), path: try s.string("path"),
                                           sha256: try s.string("sha256"), content: try s.string("content"),
                                           condition: try s.raw("condition", as: Scenario.Condition.self),
                                           systemPrompt: try s.string("system_prompt")),
                  model: try ModelRecord(f.fields("model")),
                  study: try f.optional("study") { (k: StaticString, v: Int) throws(EventDecodingError) in try StudyRecord(f.fields(k, v)) },
                  interrogator: try f.optional("interrogator") { (k: StaticString, v: Int) throws(EventDecodingError) in
                      let i = try f.fields(k, v)
                      return InterrogatorRecord(kind: try i.raw("kind", as: InterrogatorRecord.Kind.self), name: try i.string("name"),
                                                model: try ModelRecord(i.fields("model")), template: try PromptFile(i.fields("template")))
                  },
                  blindCopy: try f.optional("blind_copy", f.bool))
    }
}

extension SessionHeader.ModelRecord {
    init(_ m: Fields) throws(EventDecodingError) {
        self.init(provider: try m.string("provider"), name: try m.string("name"), baseUrl: try m.optional("base_url", m.string),
                  parameters: try ModelParameters(m.fields("parameters")), promptFormat: try m.optional("prompt_format", m.string))
    }
}

extension PromptFile {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(path: try f.string("path"), version: try f.string("version"), sha256: try f.string("sha256"))
    }
}

extension SessionHeader.StudyRecord {
    init(_ f: Fields) throws(EventDecodingError) {
        var gold: [GoldReply]?
        if f.has("gold") {
            gold = try f.array("gold").map { (g: Fields) throws(EventDecodingError) in
                GoldReply(text: try g.string("text"), labels: try g.labels("labels"), leak: try g.bool("leak"))
            }
        }
        self.init(name: try f.string("name"), task: try f.string("task"), alias: try f.string("alias"),
                  model: try f.optional("model", f.string), gold: gold)
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
        // Read in the order the keys are written (sorted), so that each is found where the
        // search for the one before ended.
        let error = try f.optional("error", f.string)
        let finishReason = try f.optional("finish_reason", f.string)
        let firstTokenMs = try f.optional("first_token_ms", f.double)
        let index = try f.int("index")
        let modelReported = try f.optional("model_reported", f.string)
        let reasoning = try f.optional("reasoning", f.string)
        let role = try f.raw("role", as: Role.self)
        let status = try f.optional("status") { (k: StaticString, v: Int) throws(EventDecodingError) in try f.raw(k, v, as: Status.self) }
        let text = try f.string("text")
        let totalMs = try f.optional("total_ms", f.double)
        let usage = try f.optional("usage") { (k: StaticString, v: Int) throws(EventDecodingError) in
            let u = try f.fields(k, v)
            return Usage(promptTokens: try u.optional("prompt_tokens", u.int), completionTokens: try u.optional("completion_tokens", u.int))
        }
        self.init(index: index, role: role, text: text, status: status, reasoning: reasoning, finishReason: finishReason,
                  error: error, modelReported: modelReported, firstTokenMs: firstTokenMs, totalMs: totalMs, usage: usage)
    }
}

extension LeakDecision {
    init(_ f: Fields) throws(EventDecodingError) {
        let confirmed = try f.bool("confirmed"), matches = try f.strings("matches"), suggested = try f.bool("suggested")
        self.init(suggested: suggested, confirmed: confirmed, matches: matches)
    }
}

extension AnnotationEvent {
    init(_ f: Fields) throws(EventDecodingError) {
        // In the order the keys are written, as for a message.
        let labels = try f.labels("labels")
        let leak = try LeakDecision(f.fields("leak"))
        let messageIndex = try f.int("message_index")
        let note = try f.optional("note", f.string)
        let primary = try f.optional("primary") { (k: StaticString, v: Int) throws(EventDecodingError) in try f.raw(k, v, as: Label.self) }
        let rater = try f.string("rater")
        let raw = try f.optional("raw", f.string)
        self.init(messageIndex: messageIndex, rater: rater, annotation: Annotation(labels: labels, leak: leak, note: note), raw: raw)
        self.primary = primary
    }
}

extension ReviewHeader {
    init(_ f: Fields) throws(EventDecodingError) {
        self.init(sessionId: try f.string("session_id"), rater: try f.string("rater"), purpose: try f.raw("purpose", as: Purpose.self),
                  app: try SessionHeader.App(f.fields("app")), ownSession: try f.bool("own_session"),
                  judge: try f.optional("judge") { (k: StaticString, v: Int) throws(EventDecodingError) in
                      let j = try f.fields(k, v)
                      return JudgeRecord(name: try j.string("name"), model: try SessionHeader.ModelRecord(j.fields("model")),
                                         rubric: try PromptFile(j.fields("rubric")), sample: try j.optional("sample", j.int))
                  })
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
        primary = try f.optional("primary") { (k: StaticString, v: Int) throws(EventDecodingError) in try f.raw(k, v, as: Label.self) }
    }
}
