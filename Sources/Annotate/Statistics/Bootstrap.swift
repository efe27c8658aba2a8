/// A small, fixed pseudo-random generator (SplitMix64), so that a seed gives the same
/// resamples on every machine and every Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An index in 0..<n (multiply-shift; the bias is below 2⁻⁴⁰ for any n a study has).
    public mutating func index(below n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }
}

/// Percentile bootstrap over transcripts: each resample draws n transcripts with replacement
/// and takes each score's mean over the drawn transcripts where it is defined.
public enum Bootstrap {
    public struct Interval: Sendable, Equatable {
        public var low: Double
        public var high: Double
        /// Resamples in which the score was defined at least once.
        public var resamples: Int
    }

    /// `rows[i][s]`: score s of transcript i, or nil. Returns a 95% interval per score (nil
    /// when no transcript defines it).
    public static func intervals(rows: [[Double?]], scores: Int, resamples: Int, seed: UInt64) -> [Interval?] {
        let n = rows.count
        guard n > 0, resamples > 0 else { return Array(repeating: nil, count: scores) }
        var rng = SplitMix64(seed: seed)
        var means = Array(repeating: [Double](), count: scores)
        // Capacity is only a hint: a caller's huge count must not allocate up front.
        for s in 0..<scores { means[s].reserveCapacity(min(resamples, 100_000)) }
        // Rows laid out flat, a missing value as NaN (scores are never NaN): the loop below runs
        // resamples × transcripts × scores times, and an array of optionals per row cost a
        // pointer chase and a branch on its tag for each.
        var flat = [Double](repeating: .nan, count: n * scores)
        for (i, row) in rows.enumerated() {
            for s in 0..<min(scores, row.count) { if let v = row[s] { flat[i * scores + s] = v } }
        }
        var sum = Array(repeating: 0.0, count: scores)
        var count = Array(repeating: 0, count: scores)
        flat.withUnsafeBufferPointer { values in
            sum.withUnsafeMutableBufferPointer { sum in
                count.withUnsafeMutableBufferPointer { count in
                    for _ in 0..<resamples {
                        for s in 0..<scores { sum[s] = 0; count[s] = 0 }
                        for _ in 0..<n {
                            let base = rng.index(below: n) * scores
                            for s in 0..<scores {
                                let v = values[base + s]
                                if !v.isNaN { sum[s] += v; count[s] += 1 }
                            }
                        }
                        for s in 0..<scores where count[s] > 0 { means[s].append(sum[s] / Double(count[s])) }
                    }
                }
            }
        }
        return means.map { m in
            guard !m.isEmpty else { return nil }
            let sorted = m.sorted()
            return Interval(low: percentile(sorted: sorted, 2.5), high: percentile(sorted: sorted, 97.5), resamples: m.count)
        }
    }
}
