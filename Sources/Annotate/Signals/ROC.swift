import Foundation

/// The receiver operating characteristic of a score that should be higher for one class
/// ("positive": a deceptive turn) than for the other.
public enum ROC {
    /// The area under the curve: the probability that a positive's score is above a
    /// negative's, ties counting one half (the Mann–Whitney U over n₊·n₋). Nil when either
    /// class is empty.
    public static func area(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty else { return nil }
        var all = positives.map { ($0, true) } + negatives.map { ($0, false) }
        all.sort { $0.0 < $1.0 }
        // Ranks from 1, tied values sharing the mean of their ranks.
        var rankSum = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2
            for k in i...j where all[k].1 { rankSum += rank }
            i = j + 1
        }
        let p = Double(positives.count), n = Double(negatives.count)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    public struct Point: Sendable, Equatable {
        public var falsePositiveRate: Double
        public var truePositiveRate: Double
    }

    /// The curve's corners, from (0, 0) to (1, 1), one per distinct score taken as the
    /// threshold from the highest down (for drawing; the area is computed above).
    public static func curve(positives: [Double], negatives: [Double]) -> [Point] {
        guard !positives.isEmpty, !negatives.isEmpty else { return [] }
        var all = positives.map { ($0, true) } + negatives.map { ($0, false) }
        all.sort { $0.0 > $1.0 }
        var out = [Point(falsePositiveRate: 0, truePositiveRate: 0)]
        var tp = 0, fp = 0, i = 0
        while i < all.count {
            let v = all[i].0
            while i < all.count, all[i].0 == v {
                if all[i].1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            out.append(.init(falsePositiveRate: Double(fp) / Double(negatives.count), truePositiveRate: Double(tp) / Double(positives.count)))
        }
        return out
    }

    /// A percentile-bootstrap 95% interval for the area, resampling sessions (clusters of
    /// turns) with replacement: turns of one session are not independent. `session[i]` is the
    /// session (0..<sessions) of observation i. Resamples that drew no positive or no negative
    /// have no area and are skipped; the interval says how many counted.
    public static func bootstrapArea(values: [Double], positive: [Bool], session: [Int], sessions: Int,
                                     resamples: Int, seed: UInt64) -> Bootstrap.Interval? {
        precondition(values.count == positive.count && values.count == session.count)
        guard sessions > 0 else { return nil }
        // Sorted once: a resample only changes how many times each session's turns count, so its
        // area is one pass over the same order (counts are whole numbers: the sums are exact).
        let order = values.indices.sorted { values[$0] < values[$1] }
        var groupEnds: [Int] = []
        for k in order.indices where k + 1 == order.count || values[order[k + 1]] != values[order[k]] { groupEnds.append(k + 1) }
        let sortedSession = order.map { session[$0] }, sortedPositive = order.map { positive[$0] }
        var rng = SplitMix64(seed: seed)
        var areas: [Double] = []
        areas.reserveCapacity(resamples)
        var times = [Double](repeating: 0, count: sessions)
        for _ in 0..<resamples {
            for s in times.indices { times[s] = 0 }
            for _ in 0..<sessions { times[rng.index(below: sessions)] += 1 }
            var area = 0.0, negativesBelow = 0.0, p = 0.0
            var start = 0
            for end in groupEnds {
                var pos = 0.0, neg = 0.0
                for k in start..<end {
                    let w = times[sortedSession[k]]
                    if sortedPositive[k] { pos += w } else { neg += w }
                }
                // Each positive is above the negatives below its value, and level with half of its own.
                area += pos * (negativesBelow + neg / 2)
                negativesBelow += neg
                p += pos
                start = end
            }
            if p > 0, negativesBelow > 0 { areas.append(area / (p * negativesBelow)) }
        }
        guard !areas.isEmpty else { return nil }
        areas.sort()
        return .init(low: percentile(sorted: areas, 2.5), high: percentile(sorted: areas, 97.5), resamples: areas.count)
    }
}
