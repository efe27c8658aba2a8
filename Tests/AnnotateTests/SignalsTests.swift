import Foundation
import Testing
@testable import Annotate

/// The figures `interrogate signals` prints, against scikit-learn and numpy
/// (`scripts/signals_fixtures.py` wrote the fixture): a wrong area or interval would be a wrong
/// claim about whether a model's probabilities reveal its deception.
@Suite("Signal statistics")
struct SignalsTests {
    struct RocCase: Decodable { var name: String; var positives: [Double]; var negatives: [Double]; var area: Double }
    struct BootCase: Decodable {
        var name: String; var values: [Double]; var positive: [Bool]; var session: [Int]; var sessions: Int
        var resamples: Int; var seed: UInt64; var counted: Int; var low: Double?; var high: Double?
    }
    struct LogisticCase: Decodable {
        var name: String; var x: [[Double]]; var y: [Int]; var fold: [Int]
        var coefficients: [Double]; var intercept: Double; var cv_probabilities: [Double]; var cv_area: Double
    }
    struct EntropyCase: Decodable { var top: [Double]; var entropy: Double }
    struct Fixture: Decodable { var roc: [RocCase]; var bootstrap: [BootCase]; var logistic: [LogisticCase]; var entropy: [EntropyCase] }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/signals.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test("the area under the ROC curve equals scikit-learn's to 1e-9, ties included", arguments: fixture.roc.map(\.name))
    func area(name: String) throws {
        let c = Self.fixture.roc.first { $0.name == name }!
        let a = try #require(ROC.area(positives: c.positives, negatives: c.negatives))
        #expect(abs(a - c.area) <= 1e-9, "\(a) vs sklearn \(c.area)")
    }

    @Test("an area needs both classes")
    func areaNeedsBothClasses() {
        #expect(ROC.area(positives: [], negatives: [1]) == nil)
        #expect(ROC.area(positives: [1], negatives: []) == nil)
    }

    @Test("the curve runs from (0,0) to (1,1) and its trapezoids give the area", arguments: fixture.roc.map(\.name))
    func curve(name: String) throws {
        let c = Self.fixture.roc.first { $0.name == name }!
        let points = ROC.curve(positives: c.positives, negatives: c.negatives)
        #expect(points.first == .init(falsePositiveRate: 0, truePositiveRate: 0))
        #expect(points.last == .init(falsePositiveRate: 1, truePositiveRate: 1))
        var area = 0.0
        for (a, b) in zip(points, points.dropFirst()) {
            area += (b.falsePositiveRate - a.falsePositiveRate) * (a.truePositiveRate + b.truePositiveRate) / 2
        }
        #expect(abs(area - c.area) <= 1e-9)
    }

    @Test("the bootstrap interval over sessions equals the same resamples scored by scikit-learn", arguments: fixture.bootstrap.map(\.name))
    func bootstrap(name: String) {
        let c = Self.fixture.bootstrap.first { $0.name == name }!
        let i = ROC.bootstrapArea(values: c.values, positive: c.positive, session: c.session, sessions: c.sessions,
                                  resamples: c.resamples, seed: c.seed)
        #expect(i?.resamples ?? 0 == c.counted, "resamples with both classes")
        if let low = c.low, let high = c.high, let i {
            #expect(abs(i.low - low) <= 1e-9, "low \(i.low) vs \(low)")
            #expect(abs(i.high - high) <= 1e-9, "high \(i.high) vs \(high)")
        } else {
            #expect(i == nil && c.low == nil)
        }
    }

    @Test("the logistic regression's coefficients equal scikit-learn's to 1e-6, and its cross-validated area too", arguments: fixture.logistic.map(\.name))
    func logistic(name: String) throws {
        let c = Self.fixture.logistic.first { $0.name == name }!
        let y = c.y.map { $0 == 1 }
        let model = try #require(LogisticRegression.fit(x: c.x, y: y))
        #expect(abs(model.intercept - c.intercept) <= 1e-6, "intercept \(model.intercept) vs \(c.intercept)")
        for (a, b) in zip(model.coefficients, c.coefficients) { #expect(abs(a - b) <= 1e-6, "coefficient \(a) vs \(b)") }
        let folds = (c.fold.max() ?? 0) + 1
        let p = LogisticRegression.crossValidated(x: c.x, y: y, fold: c.fold, folds: folds)
        for (a, b) in zip(p, c.cv_probabilities) { #expect(abs((a ?? .nan) - b) <= 1e-6, "out-of-fold \(String(describing: a)) vs \(b)") }
        let pos = p.indices.filter { y[$0] }.map { p[$0]! }, neg = p.indices.filter { !y[$0] }.map { p[$0]! }
        #expect(abs(ROC.area(positives: pos, negatives: neg)! - c.cv_area) <= 1e-6)
    }

    @Test("a regression needs both outcomes; a fold whose training rows have one is not predicted")
    func oneClass() {
        #expect(LogisticRegression.fit(x: [[1], [0]], y: [true, true]) == nil)
        let p = LogisticRegression.crossValidated(x: [[1], [0], [1], [0]], y: [true, false, true, true], fold: [0, 0, 1, 1], folds: 2)
        // Fold 1 trains on rows 0–1 (both outcomes); fold 0 trains on rows 2–3 (one outcome).
        #expect(p[0] == nil && p[1] == nil && p[2] != nil && p[3] != nil)
    }

    @Test("the top-k entropy equals numpy's on the renormalised alternatives")
    func entropy() {
        for c in Self.fixture.entropy {
            #expect(abs(ReplySignals.Span.entropy(c.top) - c.entropy) <= 1e-12, "\(c.top)")
        }
    }

    @Test("per-reply signals: mean log-probability, mean entropy, lowest margin, over the reply and its first sentence")
    func replySignals() throws {
        let tokens = [
            TokenProbability(text: "No", logprob: -0.5, top: [-0.5, -1.0]),
            TokenProbability(text: ".", logprob: -0.1, top: [-0.1, -3.0]),
            TokenProbability(text: " It", logprob: -2.0, top: [-1.0, -2.0, -2.5]),
            TokenProbability(text: " is", logprob: -0.2, top: []),
        ]
        let s = ReplySignals(tokens: tokens)
        #expect(s.whole.tokens == 4 && s.firstSentence.tokens == 2)
        #expect(abs(s.whole.meanLogprob! - (-2.8 / 4)) < 1e-12)
        #expect(abs(s.firstSentence.meanLogprob! - (-0.3)) < 1e-12)
        #expect(s.whole.minMargin == 0.5 && s.firstSentence.minMargin == 0.5)
        let e = (ReplySignals.Span.entropy([-0.5, -1.0]) + ReplySignals.Span.entropy([-0.1, -3.0]) + ReplySignals.Span.entropy([-1.0, -2.0, -2.5])) / 3
        #expect(abs(s.whole.meanEntropy! - e) < 1e-12, "a token without alternatives is left out of the entropy")
        let bare = ReplySignals(tokens: [TokenProbability(text: "Hi", logprob: -1, top: [])])
        #expect(bare.whole.meanEntropy == nil && bare.whole.minMargin == nil, "no alternatives: not recorded, not zero")
    }

    @Test("entropies are compared over one k of at least 2, the same for every contrast; other turns are left out and counted")
    func entropyOverOneK() {
        func obs(_ session: Int, _ label: Label, k: Int, lp: Double) -> SignalObservation {
            let tokens = [TokenProbability(text: "a", logprob: lp, top: Array([lp, lp - 1, lp - 2, lp - 3, lp - 4].prefix(k)))]
            var o = SignalObservation(session: session, label: label, length: 3, signals: ReplySignals(tokens: tokens))
            o.topK = k
            return o
        }
        // Most turns have k = 1 (no entropy); the entropy is read over the k = 5 turns.
        let observations = (0..<6).map { obs($0, $0 % 2 == 0 ? .fabrication : .candid, k: 1, lp: -1) }
            + (0..<4).map { obs(10 + $0, $0 % 2 == 0 ? .deflection : .candid, k: 5, lp: -Double($0)) }
            + [obs(20, .fabrication, k: 3, lp: -1)]
        let results = SignalAnalysis.analyse(observations, sessionOrder: Array(0..<21), resamples: 100, seed: 1)
        let all = results.first { $0.signal == .meanEntropy && $0.contrast == .deceptiveVsCandidOrRefusal }!
        #expect(all.positives == 2 && all.negatives == 2)
        #expect(all.leftOut == ["fewer than 2 alternatives listed per token": 6, "recorded with another number of alternatives (top_logprobs)": 1])
        // The same k in another contrast: the deflection turn against the k = 5 candid turns only.
        let deflection = results.first { $0.signal == .meanEntropy && $0.contrast == .deflectionVsCandid }!
        #expect(deflection.positives == 2 && deflection.negatives == 2 && deflection.leftOut == ["fewer than 2 alternatives listed per token": 3])
    }

    @Test("the first sentence ends at . ! ? before a space or the end, or at a line break after text; not inside 3.5")
    func firstSentence() {
        #expect(ReplySignals.firstSentenceTokens(["It", " costs", " 3", ".", "5", " euros", ".", " Yes", "."]) == 7)
        #expect(ReplySignals.firstSentenceTokens(["\n", "Sure", "\n", "next"]) == 3)
        #expect(ReplySignals.firstSentenceTokens(["Why", "?", "Because"]) == 3, "no space after ?: one sentence")
        #expect(ReplySignals.firstSentenceTokens(["Why?", " Because"]) == 1)
        #expect(ReplySignals.firstSentenceTokens(["no end at all"]) == 1)
        #expect(ReplySignals.firstSentenceTokens([]) == 0)
        #expect(ReplySignals.firstSentenceTokens(["Ça", " va", "!", " Très"]) == 3, "byte offsets past multi-byte text")
    }
}
