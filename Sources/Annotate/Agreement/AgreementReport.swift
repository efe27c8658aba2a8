import Foundation
import Synchronization
/// Every agreement figure of one group of model turns, in the shape `interrogate agree
/// --format json` prints (documented in docs/agreement.md). An undefined figure is null with
/// a sibling `…_undefined_reason`.
public struct AgreementReport: Sendable, Encodable {
    public struct Pair: Sendable, Encodable {
        public var raters: [String]
        public var kappa: Double?
        public var kappaUndefinedReason: String?
        public var units: Int
        public var confusion: [[Int]]

        enum CodingKeys: String, CodingKey { case raters, kappa, kappaUndefinedReason = "kappa_undefined_reason", units, confusion }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(raters, forKey: .raters)
            try c.encode(kappa, forKey: .kappa)
            try c.encode(kappaUndefinedReason, forKey: .kappaUndefinedReason)
            try c.encode(units, forKey: .units)
            try c.encode(confusion, forKey: .confusion)
        }
    }

    public struct LabelPresence: Sendable, Encodable {
        public var label: String
        public var krippendorffAlpha: Double?
        public var undefinedReason: String?
        public var cohenKappa: [Pair]

        enum CodingKeys: String, CodingKey { case label, krippendorffAlpha = "krippendorff_alpha", undefinedReason = "krippendorff_alpha_undefined_reason", cohenKappa = "cohen_kappa" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label)
            try c.encode(krippendorffAlpha, forKey: .krippendorffAlpha)
            try c.encode(undefinedReason, forKey: .undefinedReason)
            try c.encode(cohenKappa, forKey: .cohenKappa)
        }
    }

    public struct Disputed: Sendable, Encodable {
        public var unit: String
        /// The share of agreeing rater pairs on this turn.
        public var agreement: Double
        public var ratings: [String: String]
    }

    public var group: String?
    public var units: Int
    public var raters: [String]
    public var categories: [String]
    public var percentAgreement: AgreementFigure
    public var cohenKappa: [Pair]
    public var fleissKappa: AgreementFigure
    public var krippendorffAlphaNominal: AgreementFigure
    public var krippendorffAlphaOrdinal: AgreementFigure
    public var gwetAC1: AgreementFigure
    public var labelPresence: [LabelPresence]
    public var mostDisputed: [Disputed]

    /// - Parameters:
    ///   - labelSets: for multi-label data, each (unit, rater)'s full label set, for the
    ///     per-label presence figures; nil when only one category per rating is known.
    ///   - ordered: whether `m.categories` is in a meaningful order; without one the ordinal
    ///     alpha is undefined rather than computed on an arbitrary (alphabetical) order.
    public static func compute(_ m: RatingMatrix, ordered: Bool = true, labelSets: [String: [String: Set<String>]]? = nil,
                               labels: [String] = [], group: String? = nil, disputedLimit: Int = 10) -> AgreementReport {
        var presence: [LabelPresence] = []
        if let labelSets, !labels.isEmpty {
            // Each (unit, rater)'s set is looked up once and kept as a flag per label; each
            // label's present/absent matrix is then built from numbers. Raters are m's, then any
            // others the sets name; their order changes no figure (alpha counts per unit, and
            // Cohen's pairs go by name).
            var raters = m.raters
            var raterIndex = Dictionary(raters.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            var units: [String] = []
            var cells: [(unit: Int32, rater: Int32)] = []
            // present[c * labels.count + l]: whether cell c's set holds label l.
            var present: [Bool] = []
            var labelIndex: [String: [Int]] = [:]
            for (l, label) in labels.enumerated() { labelIndex[label, default: []].append(l) }
            for unit in m.units {
                guard let sets = labelSets[unit], !sets.isEmpty else { continue }
                units.append(unit)
                for (rater, set) in sets {
                    let r: Int
                    if let known = raterIndex[rater] { r = known } else { r = raters.count; raterIndex[rater] = r; raters.append(rater) }
                    cells.append((Int32(units.count - 1), Int32(r)))
                    present.append(contentsOf: repeatElement(false, count: labels.count))
                    for label in set { for l in labelIndex[label] ?? [] { present[present.count - labels.count + l] = true } }
                }
            }
            for (l, label) in labels.enumerated() {
                var values = [Int32](repeating: -1, count: units.count * raters.count)
                for (i, c) in cells.enumerated() { values[Int(c.unit) * raters.count + Int(c.rater)] = present[i * labels.count + l] ? 1 : 0 }
                let binary = RatingMatrix(units: units, raters: raters, categories: ["absent", "present"], cells: values)
                let alpha = Agreement.krippendorffAlpha(binary, level: .nominal)
                presence.append(LabelPresence(label: label, krippendorffAlpha: alpha.value, undefinedReason: alpha.undefinedReason,
                                              cohenKappa: cohenPairs(binary)))
            }
        }
        // The most disputed units, least agreement first (then by unit): kept as a short sorted
        // list while the units go by, since a large study has hundreds of thousands disputed.
        var worst: [(share: Double, unit: Int)] = []
        var counts = Array(repeating: 0, count: m.categories.count)
        for (u, row) in m.values.enumerated() where disputedLimit > 0 {
            var rated = 0
            for i in counts.indices { counts[i] = 0 }
            for v in row { if let v { counts[v] += 1; rated += 1 } }
            guard rated >= 2 else { continue }
            let share = Double(counts.reduce(0) { $0 + $1 * ($1 - 1) }) / Double(rated * (rated - 1))
            guard share < 1 else { continue }
            func before(_ a: (share: Double, unit: Int), _ b: (share: Double, unit: Int)) -> Bool {
                (a.share, m.units[a.unit]) < (b.share, m.units[b.unit])
            }
            let entry = (share: share, unit: u)
            if worst.count == disputedLimit, let last = worst.last, !before(entry, last) { continue }
            let at = worst.firstIndex { before(entry, $0) } ?? worst.count
            worst.insert(entry, at: at)
            if worst.count > disputedLimit { worst.removeLast() }
        }
        let disputed = worst.map { w in
            Disputed(unit: m.units[w.unit], agreement: w.share,
                     ratings: Dictionary(uniqueKeysWithValues: m.values[w.unit].enumerated().compactMap { r, v in v.map { (m.raters[r], m.categories[$0]) } }))
        }
        // The figures are independent of each other: each on its own core.
        let figures = Mutex<[Int: AgreementFigure]>([:])
        let pairs = Mutex<[Pair]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            switch i {
            case 0: let f = Agreement.percentAgreement(m); figures.withLock { $0[0] = f }
            case 1: let f = Agreement.fleissKappa(m); figures.withLock { $0[1] = f }
            case 2: let f = Agreement.krippendorffAlpha(m, level: .nominal); figures.withLock { $0[2] = f }
            case 3:
                let f = ordered ? Agreement.krippendorffAlpha(m, level: .ordinal) : .undefined("the categories have no order; give one with --order")
                figures.withLock { $0[3] = f }
            case 4: let f = Agreement.gwetAC1(m); figures.withLock { $0[4] = f }
            default: let p = cohenPairs(m); pairs.withLock { $0 = p }
            }
        }
        let f = figures.withLock { $0 }
        return AgreementReport(group: group, units: m.units.count, raters: m.raters, categories: m.categories,
                               percentAgreement: f[0]!, cohenKappa: pairs.withLock { $0 },
                               fleissKappa: f[1]!, krippendorffAlphaNominal: f[2]!, krippendorffAlphaOrdinal: f[3]!,
                               gwetAC1: f[4]!, labelPresence: presence, mostDisputed: disputed)
    }

    /// Cohen's kappa and the confusion matrix of every rater pair that rated a unit in common.
    /// Pairs are in rater-name order, each pair's raters sorted (the first rater's ratings are
    /// the confusion matrix's rows), whatever order the raters were met in.
    static func cohenPairs(_ m: RatingMatrix) -> [Pair] {
        var pairs: [Pair] = []
        let byName = m.raters.indices.sorted { m.raters[$0] < m.raters[$1] }
        for (i, a) in byName.enumerated() {
            for b in byName[(i + 1)...] {
                let k = Agreement.cohenKappa(m, a, b)
                guard k.units > 0 else { continue }
                pairs.append(Pair(raters: [m.raters[a], m.raters[b]], kappa: k.value, kappaUndefinedReason: k.undefinedReason,
                                  units: k.units, confusion: Agreement.confusion(m, a, b)))
            }
        }
        return pairs
    }

    enum Keys: String, CodingKey {
        case group, units, raters, categories
        case percentAgreement = "percent_agreement", percentAgreementReason = "percent_agreement_undefined_reason"
        case cohenKappa = "cohen_kappa"
        case fleissKappa = "fleiss_kappa", fleissKappaReason = "fleiss_kappa_undefined_reason", fleissUnits = "fleiss_kappa_units"
        case alphaNominal = "krippendorff_alpha_nominal", alphaNominalReason = "krippendorff_alpha_nominal_undefined_reason"
        case alphaOrdinal = "krippendorff_alpha_ordinal", alphaOrdinalReason = "krippendorff_alpha_ordinal_undefined_reason"
        case pairableValues = "pairable_values"
        case gwetAC1 = "gwet_ac1", gwetAC1Reason = "gwet_ac1_undefined_reason"
        case labelPresence = "label_presence", mostDisputed = "most_disputed"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(group, forKey: .group)
        try c.encode(units, forKey: .units)
        try c.encode(raters, forKey: .raters)
        try c.encode(categories, forKey: .categories)
        try c.encode(percentAgreement.value, forKey: .percentAgreement)
        try c.encode(percentAgreement.undefinedReason, forKey: .percentAgreementReason)
        try c.encode(cohenKappa, forKey: .cohenKappa)
        try c.encode(fleissKappa.value, forKey: .fleissKappa)
        try c.encode(fleissKappa.undefinedReason, forKey: .fleissKappaReason)
        try c.encode(fleissKappa.units, forKey: .fleissUnits)
        try c.encode(krippendorffAlphaNominal.value, forKey: .alphaNominal)
        try c.encode(krippendorffAlphaNominal.undefinedReason, forKey: .alphaNominalReason)
        try c.encode(krippendorffAlphaOrdinal.value, forKey: .alphaOrdinal)
        try c.encode(krippendorffAlphaOrdinal.undefinedReason, forKey: .alphaOrdinalReason)
        try c.encode(krippendorffAlphaNominal.pairable, forKey: .pairableValues)
        try c.encode(gwetAC1.value, forKey: .gwetAC1)
        try c.encode(gwetAC1.undefinedReason, forKey: .gwetAC1Reason)
        try c.encode(labelPresence, forKey: .labelPresence)
        try c.encode(mostDisputed, forKey: .mostDisputed)
    }
}
