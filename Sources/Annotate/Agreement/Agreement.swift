/// One agreement figure, with what it rests on. A figure that cannot be computed is nil with
/// the reason, never a number that looks real.
public struct AgreementFigure: Sendable, Equatable {
    public var value: Double?
    public var undefinedReason: String?
    /// Units that entered the computation.
    public var units: Int
    /// Ratings that could be paired with another rating of the same unit.
    public var pairable: Int

    static func undefined(_ reason: String, units: Int = 0, pairable: Int = 0) -> AgreementFigure {
        AgreementFigure(value: nil, undefinedReason: reason, units: units, pairable: pairable)
    }
}

/// Inter-rater agreement on nominal (and ordinal) categories. Each function states the
/// definition it follows; the tests compare them with scikit-learn, statsmodels and the
/// `krippendorff` package on the same data.
public enum Agreement {
    /// Mean over units with at least two ratings of the share of agreeing rater pairs.
    public static func percentAgreement(_ m: RatingMatrix) -> AgreementFigure {
        var sum = 0.0, units = 0, pairable = 0
        for counts in m.counts {
            let r = counts.reduce(0, +)
            guard r >= 2 else { continue }
            let agreeing = counts.reduce(0) { $0 + $1 * ($1 - 1) }
            sum += Double(agreeing) / Double(r * (r - 1))
            units += 1
            pairable += r
        }
        guard units > 0 else { return .undefined("no unit has two ratings") }
        return AgreementFigure(value: sum / Double(units), undefinedReason: nil, units: units, pairable: pairable)
    }

    /// Cohen's kappa of raters `a` and `b` over the units both rated (as scikit-learn's
    /// `cohen_kappa_score`, unweighted).
    public static func cohenKappa(_ m: RatingMatrix, _ a: Int, _ b: Int) -> AgreementFigure {
        let q = m.categories.count
        var table = Array(repeating: Array(repeating: 0, count: q), count: q)
        var n = 0
        for row in m.values {
            guard let x = row[a], let y = row[b] else { continue }
            table[x][y] += 1
            n += 1
        }
        guard n > 0 else { return .undefined("the two raters rated no unit in common") }
        let N = Double(n)
        let po = Double((0..<q).reduce(0) { $0 + table[$1][$1] }) / N
        let pe = (0..<q).reduce(0.0) { acc, k in
            let rowK = Double(table[k].reduce(0, +)), colK = Double((0..<q).reduce(0) { $0 + table[$1][k] })
            return acc + (rowK / N) * (colK / N)
        }
        guard pe < 1 else { return .undefined("both raters used one and the same category only", units: n, pairable: 2 * n) }
        return AgreementFigure(value: (po - pe) / (1 - pe), undefinedReason: nil, units: n, pairable: 2 * n)
    }

    /// Confusion matrix of raters `a` (rows) and `b` (columns) over the units both rated.
    public static func confusion(_ m: RatingMatrix, _ a: Int, _ b: Int) -> [[Int]] {
        var table = Array(repeating: Array(repeating: 0, count: m.categories.count), count: m.categories.count)
        for row in m.values { if let x = row[a], let y = row[b] { table[x][y] += 1 } }
        return table
    }

    /// Fleiss' kappa over the units rated by every rater (as statsmodels' `fleiss_kappa`).
    public static func fleissKappa(_ m: RatingMatrix) -> AgreementFigure {
        let raters = m.raters.count
        guard raters >= 2 else { return .undefined("fewer than two raters") }
        // One pass over the units rated by every rater, in order (the sum of agreements adds
        // in the order it always did): a list of them cost a retain and a release per unit.
        let n = Double(raters)
        var complete = 0
        var perCategory = [Int](repeating: 0, count: m.categories.count)
        var agreements = 0.0
        for c in m.counts {
            var total = 0, squares = 0
            for j in c.indices { total += c[j]; squares += c[j] * c[j] }
            guard total == raters else { continue }
            complete += 1
            for j in c.indices { perCategory[j] += c[j] }
            agreements += (Double(squares) - n) / (n * (n - 1))
        }
        guard complete > 0 else { return .undefined("no unit was rated by every rater") }
        let N = Double(complete)
        let p = perCategory.map { Double($0) / (N * n) }
        let pBar = agreements / N
        let pe = p.reduce(0.0) { $0 + $1 * $1 }
        guard pe < 1 else { return .undefined("every rating is in one category", units: complete, pairable: complete * raters) }
        return AgreementFigure(value: (pBar - pe) / (1 - pe), undefinedReason: nil, units: complete, pairable: complete * raters)
    }

    public enum Level: String, Sendable { case nominal, ordinal }

    /// Krippendorff's alpha with missing ratings allowed (as the `krippendorff` package):
    /// 1 − D_o / D_e from the coincidence matrix of pairable values; the ordinal distance of
    /// categories c ≤ k is (Σ_{g=c..k} n_g − (n_c + n_k)/2)².
    public static func krippendorffAlpha(_ m: RatingMatrix, level: Level) -> AgreementFigure {
        var coincidences = Coincidences(categories: m.categories.count)
        for counts in m.counts { coincidences.add(unit: counts) }
        return krippendorffAlpha(coincidences, level: level)
    }

    /// Alpha from a coincidence matrix, so that it can be accumulated one unit at a time.
    public static func krippendorffAlpha(_ coincidences: Coincidences, level: Level) -> AgreementFigure {
        let (o, units, q) = (coincidences.o, coincidences.units, coincidences.o.count)
        let nc = o.map { $0.reduce(0, +) }
        let n = nc.reduce(0, +)
        guard n > 1 else { return .undefined("fewer than two pairable ratings", units: units, pairable: Int(n.rounded())) }
        func delta(_ c: Int, _ k: Int) -> Double {
            switch level {
            case .nominal: return c == k ? 0 : 1
            case .ordinal:
                let (lo, hi) = (min(c, k), max(c, k))
                let s = (lo...hi).reduce(0.0) { $0 + nc[$1] } - (nc[lo] + nc[hi]) / 2
                return s * s
            }
        }
        var dObserved = 0.0, dExpected = 0.0
        for c in 0..<q {
            for k in 0..<q {
                let d = delta(c, k)
                dObserved += o[c][k] * d
                dExpected += nc[c] * nc[k] * d
            }
        }
        guard dExpected > 0 else { return .undefined("only one category occurs among the pairable ratings", units: units, pairable: Int(n.rounded())) }
        let alpha = 1 - (n - 1) * dObserved / dExpected
        return AgreementFigure(value: alpha, undefinedReason: nil, units: units, pairable: Int(n.rounded()))
    }

    /// Gwet's AC1 for any number of raters with missing ratings (Gwet 2008, eq. for the
    /// multiple-rater AC1): p_a over units with two or more ratings,
    /// p_e = Σ_k π_k(1 − π_k)/(q − 1) with π_k the mean share of category k per rated unit,
    /// and q the number of categories of the scale (all of `categories`, used or not).
    public static func gwetAC1(_ m: RatingMatrix) -> AgreementFigure {
        let q = m.categories.count
        guard q >= 2 else { return .undefined("the scale has one category only") }
        var pa = 0.0, paired = 0, pairable = 0
        var pi = Array(repeating: 0.0, count: q)
        var rated = 0
        for counts in m.counts {
            let r = counts.reduce(0, +)
            guard r >= 1 else { continue }
            rated += 1
            for k in 0..<q { pi[k] += Double(counts[k]) / Double(r) }
            guard r >= 2 else { continue }
            paired += 1
            pairable += r
            pa += Double(counts.reduce(0) { $0 + $1 * ($1 - 1) }) / Double(r * (r - 1))
        }
        guard paired > 0 else { return .undefined("no unit has two ratings") }
        pa /= Double(paired)
        let pe = pi.map { $0 / Double(rated) }.reduce(0.0) { $0 + $1 * (1 - $1) } / Double(q - 1)
        guard pe < 1 else { return .undefined("chance agreement is 1", units: paired, pairable: pairable) }
        return AgreementFigure(value: (pa - pe) / (1 - pe), undefinedReason: nil, units: paired, pairable: pairable)
    }
}

/// Krippendorff's coincidence matrix, built one unit at a time: a report over many transcripts
/// keeps this q×q matrix, not every rating.
public struct Coincidences: Sendable, Equatable {
    public private(set) var o: [[Double]]
    /// Units with at least two ratings (the pairable ones).
    public private(set) var units = 0

    public init(categories: Int) { o = Array(repeating: Array(repeating: 0, count: categories), count: categories) }

    /// Adds one unit, given how many of its ratings fall in each category.
    public mutating func add<Counts: RandomAccessCollection>(unit counts: Counts) where Counts.Element == Int, Counts.Index == Int {
        let mu = counts.reduce(0, +)
        guard mu >= 2 else { return }
        units += 1
        for c in counts.indices where counts[c] > 0 {
            for k in counts.indices where counts[k] > 0 {
                let pairs = c == k ? counts[c] * (counts[c] - 1) : counts[c] * counts[k]
                o[c][k] += Double(pairs) / Double(mu - 1)
            }
        }
    }
}
