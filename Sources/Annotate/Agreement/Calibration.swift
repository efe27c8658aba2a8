/// How one annotator's labels compare with gold labels (the true labels of a scripted
/// suspect's replies): accuracy and Cohen's kappa of the primary label, the confusion matrix,
/// leak detection, and drift from their earlier to their later tasks.
public struct Calibration: Sendable, Equatable {
    /// One gold reply as this annotator labelled it.
    public struct Item: Sendable, Equatable {
        public var gold: Label
        public var given: Label
        public var goldLeak: Bool
        public var givenLeak: Bool
        /// Where the item came in the annotator's work (task order, then turn): drift compares
        /// the first half of their items with the second.
        public var order: Int
        public init(gold: Label, given: Label, goldLeak: Bool, givenLeak: Bool, order: Int) {
            self.gold = gold
            self.given = given
            self.goldLeak = goldLeak
            self.givenLeak = givenLeak
            self.order = order
        }
    }

    public struct Drift: Sendable, Equatable {
        public var earlyAccuracy: Double
        public var earlyN: Int
        public var lateAccuracy: Double
        public var lateN: Int
        /// Late minus early.
        public var change: Double { lateAccuracy - earlyAccuracy }
    }

    public var n: Int
    public var correct: Int
    public var accuracy: Double?
    public var kappa: AgreementFigure
    /// Gold label (row) × given label (column), in `Label.allCases` order.
    public var confusion: [[Int]]
    public var leakHits: Int
    public var leakMisses: Int
    public var falseLeaks: Int
    public var correctNoLeak: Int
    /// Nil with fewer than 4 items (two per half).
    public var drift: Drift?

    public init(_ items: [Item]) {
        let labels = Label.allCases
        n = items.count
        correct = items.count { $0.gold == $0.given }
        accuracy = n > 0 ? Double(correct) / Double(n) : nil
        confusion = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
        for i in items { confusion[i.gold.severityRank][i.given.severityRank] += 1 }
        let matrix = RatingMatrix(units: items.indices.map(String.init), raters: ["gold", "given"], categories: labels.map(\.rawValue),
                                  values: items.map { [$0.gold.severityRank, $0.given.severityRank] })
        kappa = Agreement.cohenKappa(matrix, 0, 1)
        leakHits = items.count { $0.goldLeak && $0.givenLeak }
        leakMisses = items.count { $0.goldLeak && !$0.givenLeak }
        falseLeaks = items.count { !$0.goldLeak && $0.givenLeak }
        correctNoLeak = items.count { !$0.goldLeak && !$0.givenLeak }
        if items.count >= 4 {
            let ordered = items.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }.map(\.element)
            let early = ordered.prefix(ordered.count / 2), late = ordered.suffix(ordered.count - ordered.count / 2)
            func acc(_ s: some Collection<Item>) -> Double { Double(s.count { $0.gold == $0.given }) / Double(s.count) }
            drift = Drift(earlyAccuracy: acc(early), earlyN: early.count, lateAccuracy: acc(late), lateN: late.count)
        }
    }

    /// Why the annotator is flagged, or nil: accuracy or kappa below the study's thresholds.
    public func flag(minAccuracy: Double, minKappa: Double) -> String? {
        var why: [String] = []
        if let a = accuracy, a < minAccuracy { why.append("accuracy below \(minAccuracy)") }
        if let k = kappa.value, k < minKappa { why.append("kappa below \(minKappa)") }
        return why.isEmpty ? nil : why.joined(separator: ", ")
    }
}
