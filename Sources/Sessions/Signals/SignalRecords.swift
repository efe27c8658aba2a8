import Annotate
import Foundation

/// One reply's token log-probabilities, as the server sent them: a line of
/// `SESSION/logprobs.jsonl`, keyed by the reply's message index in `session.jsonl` (whose
/// format does not change: the session file stays small).
public struct LogprobRecord: Sendable, Equatable, Codable {
    public struct Token: Sendable, Equatable, Codable {
        public var token: String
        /// nil when the server sent none (written as null; such a line is not read as signals).
        public var logprob: Double?
        /// The alternatives the server listed at this position, most likely first.
        public var top: [Alternative]

        enum CodingKeys: String, CodingKey { case token, logprob, top }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(token, forKey: .token)
            try c.encode(logprob, forKey: .logprob)
            try c.encode(top, forKey: .top)
        }
    }
    public struct Alternative: Sendable, Equatable, Codable {
        public var token: String
        public var logprob: Double?

        enum CodingKeys: String, CodingKey { case token, logprob }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(token, forKey: .token)
            try c.encode(logprob, forKey: .logprob)
        }
    }

    public var messageIndex: Int
    /// How many alternatives per token were asked for (the model's `top_logprobs`).
    public var topLogprobs: Int?
    public var tokens: [Token]
    public var recordedAt: String?

    enum CodingKeys: String, CodingKey {
        case messageIndex = "message_index", topLogprobs = "top_logprobs", tokens, recordedAt = "recorded_at"
    }

    public init(messageIndex: Int, topLogprobs: Int?, logprobs: [TokenLogprob], at date: Date = Date()) {
        self.messageIndex = messageIndex
        self.topLogprobs = topLogprobs
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        tokens = logprobs.map { .init(token: $0.token, logprob: finite($0.logprob), top: $0.top.map { .init(token: $0.token, logprob: finite($0.logprob)) }) }
        recordedAt = TranscriptCoding.formatTimestamp(date)
    }

    public init(messageIndex: Int, topLogprobs: Int?, tokens: [Token], recordedAt: String?) {
        self.messageIndex = messageIndex
        self.topLogprobs = topLogprobs
        self.tokens = tokens
        self.recordedAt = recordedAt
    }

    /// What the signal statistics read of it: the k alternatives asked for, most likely first.
    /// Servers may list one more (llama.cpp adds the chosen token when it is not among the top
    /// k); it is left out, so that every token's entropy is over the same k.
    public var probabilities: [TokenProbability] {
        tokens.map { t in
            // Records are read by `SignalSidecar`, which leaves out a line with a missing value.
            let top = t.top.map { $0.logprob ?? -.infinity }.sorted(by: >)
            return TokenProbability(text: t.token, logprob: t.logprob ?? -.infinity, top: topLogprobs.map { Array(top.prefix(max(0, $0))) } ?? top)
        }
    }
}

/// The answers to the probe set asked after one reply, on a fork of the conversation: a line
/// of `SESSION/probes.jsonl`, keyed by the reply's message index.
public struct ProbeRecord: Sendable, Equatable, Codable {
    public enum Answer: String, Sendable, Codable {
        case yes, no
        /// Anything but yes or no as the first word: recorded as given, never read as either.
        case other
        /// The request failed; `error` says why.
        case failed
    }

    public struct ProbeAnswer: Sendable, Equatable, Codable {
        public var id: String
        public var answer: Answer
        public var text: String
        /// ln P of "yes" (any case, with or without a leading space) as the first word, summed over
        /// the alternatives the server listed; nil when none was listed or no logprobs came.
        public var logprobYes: Double?
        public var logprobNo: Double?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case id, answer, text, logprobYes = "logprob_yes", logprobNo = "logprob_no", error
        }
    }

    public var messageIndex: Int
    public var probeSet: PromptFile
    public var answers: [ProbeAnswer]
    public var recordedAt: String?

    enum CodingKeys: String, CodingKey {
        case messageIndex = "message_index", probeSet = "probe_set", answers, recordedAt = "recorded_at"
    }
}
