import Dispatch
import Foundation

/// A small, fixed pseudo-random generator (SplitMix64), so that a seed gives the same
/// resamples on every machine and every Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// The generator `seed` gives after `draws` calls of `next()`: its state moves by a constant
    /// per draw, so any stretch of the stream can be started directly (and run on its own core).
    public init(seed: UInt64, after draws: UInt64) { state = seed &+ draws &* Self.gamma }

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
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
        // Rows laid out flat, a missing value as NaN (scores are never NaN): the loop below runs
        // resamples × transcripts × scores times, and an array of optionals per row cost a
        // pointer chase and a branch on its tag for each.
        var flat = [Double](repeating: .nan, count: n * scores)
        for (i, row) in rows.enumerated() {
            for s in 0..<min(scores, row.count) { if let v = row[s] { flat[i * scores + s] = v } }
        }
        return intervals(flat: flat, transcripts: n, scores: scores, resamples: resamples, seed: seed)
    }

    /// The same over rows laid out flat (`values[i * scores + s]`, NaN where score s of
    /// transcript i is not defined).
    ///
    /// Resample r draws its n indices from the seeded stream at position r·n, as one sequential
    /// stream would, so stretches of resamples run on every core and give the same figures,
    /// bit for bit, as one core does.
    public static func intervals(flat: [Double], transcripts n: Int, scores: Int, resamples: Int, seed: UInt64) -> [Interval?] {
        guard n > 0, scores > 0, resamples > 0, flat.count == n * scores else { return Array(repeating: nil, count: scores) }
        // means[s * resamples + r]: score s's mean in resample r, NaN when no drawn transcript defines it.
        var means = [Double](repeating: .nan, count: scores * resamples)
        // Without branches, eight scores at a time: a row is its values (a missing one as 0) and
        // its counts (1, or 0 for a missing one) in SIMD lanes, and a draw adds both. Each lane
        // adds what the one-at-a-time loop added, in the same order, so the sums are the same
        // (x + 0 is x).
        let lanes = (scores + 7) / 8
        // Row i is its values' lanes then its counts' lanes, side by side: a draw is a random
        // row, and one place in memory to wait for rather than two.
        let stride = 2 * lanes
        var rows = [SIMD8<Double>](repeating: .zero, count: n * stride)
        for i in 0..<n {
            for s in 0..<scores {
                let v = flat[i * scores + s]
                rows[i * stride + s / 8][s % 8] = v.isNaN ? 0 : v
                rows[i * stride + lanes + s / 8][s % 8] = v.isNaN ? 0 : 1
            }
        }
        let chunks = min(resamples, 8 * max(1, activeProcessors))
        rows.withUnsafeBufferPointer { rows in
            means.withUnsafeMutableBufferPointer { out in
                let rows = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: rows)), out = UnsafeSendableBuffer(out)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let first = resamples * c / chunks, end = resamples * (c + 1) / chunks
                    var rng = SplitMix64(seed: seed, after: UInt64(first) &* UInt64(n))
                    var sums = [SIMD8<Double>](repeating: .zero, count: stride)
                    sums.withUnsafeMutableBufferPointer { sums in
                        for r in first..<end {
                            if lanes == 1 {
                                var sum = SIMD8<Double>.zero, count = SIMD8<Double>.zero
                                for _ in 0..<n {
                                    let row = rows.base.baseAddress! + rng.index(below: n) * 2
                                    sum += row[0]
                                    count += row[1]
                                }
                                sums[0] = sum
                                sums[1] = count
                            } else {
                                for l in 0..<stride { sums[l] = .zero }
                                for _ in 0..<n {
                                    let row = rows.base.baseAddress! + rng.index(below: n) * stride
                                    for l in 0..<stride { sums[l] += row[l] }
                                }
                            }
                            for s in 0..<scores {
                                let count = sums[lanes + s / 8][s % 8]
                                if count > 0 { out.base[s * resamples + r] = sums[s / 8][s % 8] / count }
                            }
                        }
                    }
                }
            }
        }
        return (0..<scores).map { s in
            let m = means[(s * resamples)..<((s + 1) * resamples)].filter { !$0.isNaN }
            guard !m.isEmpty else { return nil }
            let sorted = m.sorted()
            return Interval(low: percentile(sorted: sorted, 2.5), high: percentile(sorted: sorted, 97.5), resamples: m.count)
        }
    }
}

/// A buffer shared by many workers: read by all, or written by each at its own elements only.
private struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ base: UnsafeMutableBufferPointer<T>) { self.base = base }
}

private var activeProcessors: Int { ProcessInfo.processInfo.activeProcessorCount }
