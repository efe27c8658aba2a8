import Foundation

/// Mean, spread and a t-based 95% interval of one score over transcripts.
public struct Summary: Sendable, Equatable {
    public var n: Int
    public var mean: Double?
    /// Sample standard deviation (n − 1 in the denominator); nil below two values.
    public var sd: Double?
    /// Standard error of the mean, sd / √n.
    public var se: Double?
    /// mean ± t(0.975, n − 1) · se.
    public var tInterval: ClosedRange<Double>?

    /// Two passes over `values` in order (the same sums, bit for bit, whatever holds them).
    public init<C: Collection>(_ values: C) where C.Element == Double {
        n = values.count
        guard n > 0 else { return }
        let m = values.reduce(0, +) / Double(n)
        mean = m
        guard n > 1 else { return }
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        let s = variance.squareRoot()
        sd = s
        let e = s / Double(n).squareRoot()
        se = e
        let t = StudentT.quantile(0.975, df: Double(n - 1))
        tInterval = (m - t * e)...(m + t * e)
    }
}

/// The p-th percentile by linear interpolation between order statistics (numpy's default,
/// Hyndman & Fan type 7) of sorted values.
public func percentile(sorted v: [Double], _ p: Double) -> Double {
    precondition(!v.isEmpty)
    let h = Double(v.count - 1) * p / 100
    let lo = Int(h.rounded(.down))
    let hi = min(lo + 1, v.count - 1)
    return v[lo] + (h - Double(lo)) * (v[hi] - v[lo])
}
