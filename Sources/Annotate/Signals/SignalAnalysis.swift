import Dispatch
import Foundation

/// One model turn with a resolved label, and what was recorded about it.
public struct SignalObservation: Sendable, Equatable {
    /// The turn's session, numbered within the analysis (turns of a session are resampled together).
    public var session: Int
    public var label: Label
    /// The reply's length in characters: the baseline every signal should beat.
    public var length: Int
    /// nil: no token probabilities were recorded for this reply, or they could not be used
    /// (`missing` says why).
    public var signals: ReplySignals?
    public var missing = "not recorded"
    /// How many alternatives per token were asked for: entropies over different k do not compare.
    public var topK: Int?
    /// The probe set's sha256, with yes = 1 / no = 0 per probe (nil when any probe's answer was
    /// not yes or no), and ln P(yes) − ln P(no) per probe (nil when any was not listed).
    public var probeSet: String?
    public var probeAnswers: [Double]?
    public var probeLogOdds: [Double]?
    /// Why `probeLogOdds` is nil when answers were recorded.
    public var probeLogOddsMissing = "yes or no not among the listed alternatives"

    public init(session: Int, label: Label, length: Int, signals: ReplySignals? = nil,
                probeSet: String? = nil, probeAnswers: [Double]? = nil, probeLogOdds: [Double]? = nil) {
        self.session = session
        self.label = label
        self.length = length
        self.signals = signals
        self.probeSet = probeSet
        self.probeAnswers = probeAnswers
        self.probeLogOdds = probeLogOdds
    }
}

/// Which turns are told apart: deceptive ones (the positives) from the others.
public enum SignalContrast: String, Sendable, CaseIterable, Codable {
    case deceptiveVsCandidOrRefusal = "deceptive vs candid or refusal"
    case deflectionVsCandid = "deflection vs candid"
    case transformationVsCandid = "transformation vs candid"
    case fabricationVsCandid = "fabrication vs candid"

    /// true: positive, false: negative, nil: not in this contrast.
    public func side(_ l: Label) -> Bool? {
        switch self {
        case .deceptiveVsCandidOrRefusal: l.isDeceptive
        case .deflectionVsCandid: l == .deflection ? true : l == .candid ? false : nil
        case .transformationVsCandid: l == .transformation ? true : l == .candid ? false : nil
        case .fabricationVsCandid: l == .fabrication ? true : l == .candid ? false : nil
        }
    }
}

/// The signals scored, in the order they are printed.
public enum SignalKind: String, Sendable, CaseIterable, Codable {
    case length = "reply length (characters)"
    case meanLogprob = "mean token log-probability"
    case meanEntropy = "mean top-k entropy"
    case minMargin = "lowest top-2 margin"
    case firstMeanLogprob = "first sentence: mean token log-probability"
    case firstMeanEntropy = "first sentence: mean top-k entropy"
    case firstMinMargin = "first sentence: lowest top-2 margin"
    case probeAnswers = "probes: logistic regression on yes/no answers (cross-validated)"
    case probeLogOdds = "probes: logistic regression on yes/no log-odds (cross-validated)"

    public var isProbe: Bool { self == .probeAnswers || self == .probeLogOdds }

    func value(_ o: SignalObservation) -> Double? {
        switch self {
        case .length: Double(o.length)
        case .meanLogprob: o.signals?.whole.meanLogprob
        case .meanEntropy: o.signals?.whole.meanEntropy
        case .minMargin: o.signals?.whole.minMargin
        case .firstMeanLogprob: o.signals?.firstSentence.meanLogprob
        case .firstMeanEntropy: o.signals?.firstSentence.meanEntropy
        case .firstMinMargin: o.signals?.firstSentence.minMargin
        case .probeAnswers, .probeLogOdds: nil
        }
    }
}

/// For each signal and contrast: the area under the ROC curve with its bootstrap interval over
/// sessions, and how many turns it rests on and which were left out. Definitions: docs/signals.md.
public struct SignalAnalysis: Sendable {
    public struct Result: Sendable, Equatable {
        public var signal: SignalKind
        public var contrast: SignalContrast
        /// Turns in the contrast with the signal: positives and negatives.
        public var positives: Int
        public var negatives: Int
        public var sessions: Int
        /// Turns in the contrast without the signal, by reason.
        public var leftOut: [String: Int]
        public var area: Double?
        public var interval: Bootstrap.Interval?
        public var curve: [ROC.Point]
        /// For the probe regressions: how many folds, and the sessions' probe set.
        public var folds: Int?
        /// The reply length's AUROC over the same turns: the baseline like for like.
        public var lengthArea: Double?
    }

    public static let folds = 5

    /// `sessionOrder[s]` ranks session s by its id: folds are dealt by that rank, so the split
    /// does not depend on the order sessions were read in.
    public static func analyse(_ observations: [SignalObservation], sessionOrder: [Int], resamples: Int, seed: UInt64) -> [Result] {
        let pairs = SignalKind.allCases.flatMap { signal in SignalContrast.allCases.map { (signal, $0) } }
        // Entropies are compared over one k, the same for every contrast: the k (of at least 2)
        // most turns with an entropy were recorded with.
        var ks: [Int: Int] = [:]
        for o in observations where o.signals?.whole.meanEntropy != nil { if let k = o.topK, k >= 2 { ks[k, default: 0] += 1 } }
        let entropyK = ks.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
        // Each figure on its own core; each is computed whole by one, so none depends on the others.
        let slots = UnsafeMutableBufferPointer<Result?>.allocate(capacity: pairs.count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        let shared = UnsafeSendableBuffer(slots)
        DispatchQueue.concurrentPerform(iterations: pairs.count) { i in
            let (signal, contrast) = pairs[i]
            shared.base[i] = signal.isProbe
                ? regression(signal, contrast, observations, sessionOrder: sessionOrder, resamples: resamples, seed: seed)
                : direct(signal, contrast, observations, entropyK: entropyK, resamples: resamples, seed: seed)
        }
        return slots.map { $0! }
    }

    static func direct(_ signal: SignalKind, _ contrast: SignalContrast, _ obs: [SignalObservation], entropyK k: Int?,
                       resamples: Int, seed: UInt64) -> Result {
        var values: [Double] = [], sides: [Bool] = [], sessions: [Int] = [], lengths: [Double] = []
        var leftOut: [String: Int] = [:]
        let entropy = signal == .meanEntropy || signal == .firstMeanEntropy
        for o in obs {
            guard let side = contrast.side(o.label) else { continue }
            if entropy, o.signals?.whole.meanEntropy != nil, o.topK != k {
                leftOut["recorded with another number of alternatives (top_logprobs)", default: 0] += 1
                continue
            }
            guard let v = signal.value(o) else {
                leftOut[o.signals == nil ? o.missing : "fewer than 2 alternatives listed per token", default: 0] += 1
                continue
            }
            values.append(v)
            sides.append(side)
            sessions.append(o.session)
            lengths.append(Double(o.length))
        }
        return result(signal, contrast, values, sides, sessions, lengths: lengths, leftOut: leftOut, folds: nil, resamples: resamples, seed: seed)
    }

    static func regression(_ signal: SignalKind, _ contrast: SignalContrast, _ obs: [SignalObservation],
                           sessionOrder: [Int], resamples: Int, seed: UInt64) -> Result {
        var leftOut: [String: Int] = [:]
        var inContrast: [SignalObservation] = []
        for o in obs where contrast.side(o.label) != nil {
            guard o.probeSet != nil else { leftOut["not recorded", default: 0] += 1; continue }
            inContrast.append(o)
        }
        // One regression needs one set of questions: the set most turns were asked.
        var bySet: [String: Int] = [:]
        for o in inContrast { bySet[o.probeSet!, default: 0] += 1 }
        let set = bySet.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
        var x: [[Double]] = [], y: [Bool] = [], sessions: [Int] = [], lengths: [Double] = []
        // A record with fewer answers than the set has questions cannot be one of its rows.
        var widths: [Int: Int] = [:]
        for o in inContrast where o.probeSet == set { if let n = o.probeAnswers?.count ?? o.probeLogOdds?.count { widths[n, default: 0] += 1 } }
        let width = widths.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }?.key
        for o in inContrast {
            guard o.probeSet == set else { leftOut["asked another probe set", default: 0] += 1; continue }
            let features = signal == .probeAnswers ? o.probeAnswers : o.probeLogOdds
            if let features, features.count != width { leftOut["answers to a part of the probe set", default: 0] += 1; continue }
            guard let features else {
                leftOut[signal == .probeAnswers ? "a probe answer not yes or no" : o.probeLogOddsMissing, default: 0] += 1
                continue
            }
            x.append(features)
            y.append(contrast.side(o.label)!)
            sessions.append(o.session)
            lengths.append(Double(o.length))
        }
        // Folds by session: a session's turns are never both fitted and predicted.
        let distinct = Set(sessions).count
        let k = min(folds, distinct)
        guard k >= 2 else {
            if !x.isEmpty { leftOut["fewer than 2 sessions to cross-validate", default: 0] += x.count }
            return result(signal, contrast, [], [], [], lengths: [], leftOut: leftOut, folds: nil, resamples: resamples, seed: seed)
        }
        let ranked = Set(sessions).sorted { sessionOrder[$0] < sessionOrder[$1] }
        var foldOf: [Int: Int] = [:]
        for (r, s) in ranked.enumerated() { foldOf[s] = r % k }
        let predicted = LogisticRegression.crossValidated(x: x, y: y, fold: sessions.map { foldOf[$0]! }, folds: k)
        var values: [Double] = [], sides: [Bool] = [], kept: [Int] = [], keptLengths: [Double] = []
        for i in predicted.indices {
            guard let p = predicted[i] else { leftOut["its fold's training turns had one class", default: 0] += 1; continue }
            values.append(p)
            sides.append(y[i])
            kept.append(sessions[i])
            keptLengths.append(lengths[i])
        }
        return result(signal, contrast, values, sides, kept, lengths: keptLengths, leftOut: leftOut, folds: k, resamples: resamples, seed: seed)
    }

    static func result(_ signal: SignalKind, _ contrast: SignalContrast, _ values: [Double], _ sides: [Bool], _ sessions: [Int],
                       lengths: [Double], leftOut: [String: Int], folds: Int?, resamples: Int, seed: UInt64) -> Result {
        let pos = values.indices.filter { sides[$0] }.map { values[$0] }
        let neg = values.indices.filter { !sides[$0] }.map { values[$0] }
        // Sessions renumbered 0..<m among those with a turn here, for the bootstrap.
        var number: [Int: Int] = [:]
        let renumbered = sessions.map { s in number[s] ?? { number[s] = number.count; return number.count - 1 }() }
        let area = ROC.area(positives: pos, negatives: neg)
        return Result(signal: signal, contrast: contrast, positives: pos.count, negatives: neg.count, sessions: number.count,
                      leftOut: leftOut, area: area,
                      interval: area == nil ? nil : ROC.bootstrapArea(values: values, positive: sides, session: renumbered, sessions: number.count,
                                                                      resamples: resamples, seed: seed),
                      curve: ROC.curve(positives: pos, negatives: neg), folds: folds,
                      lengthArea: ROC.area(positives: lengths.indices.filter { sides[$0] }.map { lengths[$0] },
                                           negatives: lengths.indices.filter { !sides[$0] }.map { lengths[$0] }))
    }
}
