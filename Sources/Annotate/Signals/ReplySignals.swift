import Foundation

/// One generated token as the server scored it: its log-probability, and the log-probabilities
/// of the top alternatives the server listed at that position (the chosen token among them).
public struct TokenProbability: Sendable, Equatable {
    public var text: String
    public var logprob: Double
    public var top: [Double]
    public init(text: String, logprob: Double, top: [Double]) {
        self.text = text
        self.logprob = logprob
        self.top = top
    }
}

/// What a reply's token probabilities say about how sure the model was, over the whole reply
/// and over its first sentence (where a direct answer, or its evasion, usually is).
/// Definitions: docs/signals.md.
public struct ReplySignals: Sendable, Equatable {
    public struct Span: Sendable, Equatable {
        public var tokens: Int
        /// The mean of the chosen tokens' log-probabilities (natural log).
        public var meanLogprob: Double?
        /// The mean, over tokens with at least two alternatives listed, of the entropy (nats) of
        /// the top-k alternatives renormalised to sum to one (one alternative has no spread to measure).
        public var meanEntropy: Double?
        /// The smallest gap, in log-probability, between the two most likely alternatives
        /// (nil when the server listed fewer than two per token).
        public var minMargin: Double?

        public init(_ tokens: ArraySlice<TokenProbability>) {
            self.tokens = tokens.count
            meanLogprob = tokens.isEmpty ? nil : tokens.reduce(0) { $0 + $1.logprob } / Double(tokens.count)
            var entropy = 0.0, withTop = 0
            var margin: Double?
            for t in tokens where t.top.count >= 2 {
                entropy += Self.entropy(t.top)
                withTop += 1
                let sorted = t.top.sorted(by: >)
                margin = min(margin ?? .infinity, sorted[0] - sorted[1])
            }
            meanEntropy = withTop == 0 ? nil : entropy / Double(withTop)
            minMargin = margin
        }

        /// The entropy of the distribution the log-probabilities give once renormalised.
        static func entropy(_ logprobs: [Double]) -> Double {
            let top = logprobs.max()!
            let weights = logprobs.map { Foundation.exp($0 - top) }
            let total = weights.reduce(0, +)
            var h = 0.0
            for w in weights where w > 0 {
                let p = w / total
                h -= p * Foundation.log(p)
            }
            return h
        }
    }

    public var whole: Span
    public var firstSentence: Span

    public init(tokens: [TokenProbability]) {
        whole = Span(tokens[...])
        firstSentence = Span(tokens[..<Self.firstSentenceTokens(tokens.map(\.text))])
    }

    /// How many tokens the first sentence takes: up to the token holding the first '.', '!'
    /// or '?' followed by white space or the end, or the first line break after some text;
    /// the whole reply when there is none. "3.5" does not end a sentence.
    public static func firstSentenceTokens(_ texts: [String]) -> Int {
        var starts: [Int] = []
        var bytes: [UInt8] = []
        for t in texts {
            starts.append(bytes.count)
            bytes += t.utf8
        }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        var seenText = false
        var end: Int?
        for (i, b) in bytes.enumerated() {
            if b == 0x0A, seenText { end = i; break }
            if !isSpace(b) { seenText = true }
            if b == 0x2E || b == 0x21 || b == 0x3F, i + 1 == bytes.count || isSpace(bytes[i + 1]) { end = i; break }
        }
        guard let end else { return texts.count }
        return starts.count(where: { $0 <= end })
    }
}
