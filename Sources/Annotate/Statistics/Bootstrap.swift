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
        guard !rows.isEmpty, scores > 0, resamples > 0 else { return Array(repeating: nil, count: scores) }
        // A missing value as NaN (scores are never NaN): the bootstrap's loop runs resamples ×
        // transcripts × scores times, and an array of optionals per row cost a pointer chase and
        // a branch on its tag for each.
        var scoreRows = ScoreRows(width: scores)
        for row in rows { scoreRows.append((0..<scores).map { s in s < row.count ? row[s] ?? .nan : .nan }) }
        return intervals(scoreRows, resamples: resamples, seed: seed)
    }

    /// The same over transcripts' rows, each distinct row kept once.
    ///
    /// Resample r draws its n indices from the seeded stream at position r·n, as one sequential
    /// stream would, so stretches of resamples run on every core and give the same figures,
    /// bit for bit, as one core does.
    public static func intervals(_ scoreRows: ScoreRows, resamples: Int, seed: UInt64) -> [Interval?] {
        let n = scoreRows.count, scores = scoreRows.width
        guard n > 0, resamples > 0 else { return Array(repeating: nil, count: scores) }
        // A draw picks a transcript and adds its row: the rows are the few distinct ones, so
        // the table a draw reads stays in the cache whatever the size of the study.
        let distinct = scoreRows.distinct
        let table = scoreRows.table
        var multiplicity = [Int](repeating: 0, count: distinct)
        for r in scoreRows.rowOf { multiplicity[Int(r)] += 1 }
        // A resample's cost is n draws × the columns a draw adds, so a row keeps only what the
        // means need: the value of each score defined somewhere (a missing one as 0), and one
        // count column (1, or 0 where missing) per distinct pattern of missing values that is
        // not "defined everywhere", shared by the scores with that pattern. A score defined in
        // every transcript has n drawn values, so it needs no count. Each value column adds what
        // the one-at-a-time loop added, in the same order, and counts are whole numbers, so the
        // means are the same bit for bit (x + 0 is x).
        func sameMissing(_ a: Int, _ b: Int) -> Bool {
            (0..<distinct).allSatisfy { r in table[r * scores + a].isNaN == table[r * scores + b].isNaN }
        }
        var values = [Int?](repeating: nil, count: scores)
        var partial: [Int] = []          // the first score of each pattern that needs counts
        var pattern = [Int?](repeating: nil, count: scores)
        var columns = 0
        for s in 0..<scores {
            var defined = 0
            for r in 0..<distinct where !table[r * scores + s].isNaN { defined += multiplicity[r] }
            guard defined > 0 else { continue }
            values[s] = columns
            columns += 1
            guard defined < n else { continue }
            if let p = partial.firstIndex(where: { sameMissing($0, s) }) {
                pattern[s] = p
            } else {
                pattern[s] = partial.count
                partial.append(s)
            }
        }
        let valueColumn = values
        let countColumn = pattern.map { p in p.map { columns + $0 } }
        columns += partial.count
        // means[s * resamples + r]: score s's mean in resample r, NaN when no drawn transcript defines it.
        var means = [Double](repeating: .nan, count: scores * resamples)
        guard columns > 0 else { return Array(repeating: nil, count: scores) }
        // Columns in SIMD lanes of four, without branches; a draw is a transcript's row number,
        // then its row among the distinct ones (both small enough to stay in the cache).
        let stride = (columns + 3) / 4
        var rows = [SIMD4<Double>](repeating: .zero, count: distinct * stride)
        for i in 0..<distinct {
            for s in 0..<scores {
                let v = table[i * scores + s]
                if let c = valueColumn[s] { rows[i * stride + c / 4][c % 4] = v.isNaN ? 0 : v }
                if let c = countColumn[s] { rows[i * stride + c / 4][c % 4] = v.isNaN ? 0 : 1 }
            }
        }
        let chunks = min(resamples, 8 * max(1, activeProcessors))
        let rowOf = scoreRows.rowOf
        rows.withUnsafeBufferPointer { rows in
            rowOf.withUnsafeBufferPointer { rowOf in
                means.withUnsafeMutableBufferPointer { out in
                    let rows = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: rows)), out = UnsafeSendableBuffer(out)
                    let rowOf = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: rowOf))
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let first = resamples * c / chunks, end = resamples * (c + 1) / chunks
                        var rng = SplitMix64(seed: seed, after: UInt64(first) &* UInt64(n))
                        var sums = [SIMD4<Double>](repeating: .zero, count: max(stride, 4))
                        sums.withUnsafeMutableBufferPointer { sums in
                            let base = rows.base.baseAddress!, rowNumber = rowOf.base.baseAddress!
                            for r in first..<end {
                                // The common widths with sums held in registers.
                                switch stride {
                                case 1:
                                    var a = SIMD4<Double>.zero
                                    for _ in 0..<n { a += base[Int(rowNumber[rng.index(below: n)])] }
                                    sums[0] = a
                                case 2:
                                    var a = SIMD4<Double>.zero, b = SIMD4<Double>.zero
                                    for _ in 0..<n {
                                        let row = base + Int(rowNumber[rng.index(below: n)]) * 2
                                        a += row[0]; b += row[1]
                                    }
                                    sums[0] = a; sums[1] = b
                                case 3:
                                    var a = SIMD4<Double>.zero, b = SIMD4<Double>.zero, d = SIMD4<Double>.zero
                                    for _ in 0..<n {
                                        let row = base + Int(rowNumber[rng.index(below: n)]) * 3
                                        a += row[0]; b += row[1]; d += row[2]
                                    }
                                    sums[0] = a; sums[1] = b; sums[2] = d
                                case 4:
                                    var a = SIMD4<Double>.zero, b = SIMD4<Double>.zero, d = SIMD4<Double>.zero, e = SIMD4<Double>.zero
                                    for _ in 0..<n {
                                        let row = base + Int(rowNumber[rng.index(below: n)]) * 4
                                        a += row[0]; b += row[1]; d += row[2]; e += row[3]
                                    }
                                    sums[0] = a; sums[1] = b; sums[2] = d; sums[3] = e
                                default:
                                    for l in 0..<stride { sums[l] = .zero }
                                    for _ in 0..<n {
                                        let row = base + Int(rowNumber[rng.index(below: n)]) * stride
                                        for l in 0..<stride { sums[l] += row[l] }
                                    }
                                }
                                for s in 0..<scores {
                                    guard let v = valueColumn[s] else { continue }
                                    let count = countColumn[s].map { sums[$0 / 4][$0 % 4] } ?? Double(n)
                                    if count > 0 { out.base[s * resamples + r] = sums[v / 4][v % 4] / count }
                                }
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
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ base: UnsafeMutableBufferPointer<T>) { self.base = base }
}

private var activeProcessors: Int { ProcessInfo.processInfo.activeProcessorCount }
