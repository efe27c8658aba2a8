import Foundation
import Testing
@testable import Annotate

/// Mean, spread, t intervals and percentiles against numpy and scipy
/// (`scripts/statistics_fixtures.py` wrote the fixture), and the bootstrap's reproducibility.
@Suite("Report statistics")
struct StatisticsTests {
    struct Case: Decodable {
        var name: String
        var values: [Double]
        var n: Int
        var mean: Double?
        var sd: Double?
        var se: Double?
        var t_low: Double?
        var t_high: Double?
        var p2_5: Double?
        var p97_5: Double?
    }
    struct TCDF: Decodable { var t: Double; var df: Double; var cdf: Double }
    struct TQuantile: Decodable { var p: Double; var df: Double; var q: Double }
    struct Fixture: Decodable { var cases: [Case]; var t_cdf: [TCDF]; var t_quantiles: [TQuantile] }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/statistics.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func close(_ a: Double?, _ b: Double?, _ what: String, tolerance: Double = 1e-9) {
        switch (a, b) {
        case (nil, nil): break
        case let (x?, y?): #expect(abs(x - y) <= tolerance * max(1, abs(y)), "\(what): \(x) vs numpy/scipy \(y)")
        default: Issue.record("\(what): \(String(describing: a)) vs numpy/scipy \(String(describing: b))")
        }
    }

    @Test("mean, standard deviation, standard error and the t interval equal numpy/scipy", arguments: fixture.cases.map(\.name))
    func summary(name: String) {
        let c = Self.fixture.cases.first { $0.name == name }!
        let s = Summary(c.values)
        #expect(s.n == c.n)
        close(s.mean, c.mean, "\(name) mean")
        close(s.sd, c.sd, "\(name) sd")
        close(s.se, c.se, "\(name) se")
        close(s.tInterval?.lowerBound, c.t_low, "\(name) t low")
        close(s.tInterval?.upperBound, c.t_high, "\(name) t high")
        if !c.values.isEmpty {
            let sorted = c.values.sorted()
            close(percentile(sorted: sorted, 2.5), c.p2_5, "\(name) p2.5")
            close(percentile(sorted: sorted, 97.5), c.p97_5, "\(name) p97.5")
        }
    }

    @Test("Student's t CDF and quantiles equal scipy.stats.t")
    func studentT() {
        for c in Self.fixture.t_cdf { close(StudentT.cdf(c.t, df: c.df), c.cdf, "cdf(\(c.t), df \(c.df))", tolerance: 1e-12) }
        for c in Self.fixture.t_quantiles { close(StudentT.quantile(c.p, df: c.df), c.q, "ppf(\(c.p), df \(c.df))") }
    }

    @Test("the same seed gives the same bootstrap intervals; another seed other ones; a constant score a point")
    func bootstrapReproducible() {
        let rows: [[Double?]] = (0..<40).map { (i: Int) -> [Double?] in
            let rate: Double = Double(i % 7) / 6
            let kept: Double? = i % 3 == 0 ? nil : Double(i % 2)
            return [rate, kept, 2.0]
        }
        let a = Bootstrap.intervals(rows: rows, scores: 3, resamples: 500, seed: 42)
        let b = Bootstrap.intervals(rows: rows, scores: 3, resamples: 500, seed: 42)
        let c = Bootstrap.intervals(rows: rows, scores: 3, resamples: 500, seed: 43)
        #expect(a == b)
        #expect(a[0] != c[0])
        #expect(a[2]?.low == 2 && a[2]?.high == 2)
        let mean = rows.compactMap { $0[0] }.reduce(0, +) / 40
        #expect(a[0]!.low < mean && mean < a[0]!.high)
        #expect(a[1]!.resamples == 500)
    }

    @Test("bootstrap intervals run on every core are, bit for bit, those of one sequential seeded stream")
    func bootstrapParallelEqualsSequential() {
        // Resample counts that do not divide into the workers' stretches; a score defined only
        // in rare transcripts, so some resamples leave it undefined.
        for (n, resamples, seed, k) in [(1, 100, UInt64(3), 3), (7, 101, 5, 3), (53, 997, 20261128, 5), (400, 2000, 1, 5), (60, 300, 77, 8), (31, 333, 8, 11), (25, 200, 4, 1), (25, 200, 4, 2)] {
            var rng = SplitMix64(seed: seed &+ 99)
            let rows: [[Double?]] = (0..<n).map { _ in
                (0..<k).map { s in
                    switch s % 3 {
                    case 0: Double(rng.index(below: 100)) / 7
                    case 1: rng.index(below: 9) == 0 ? 1.5 : nil
                    default: rng.index(below: 2) == 0 ? nil : Double(s)
                    }
                }
            }
            // The reference: one stream, resample after resample, as the report always drew.
            var stream = SplitMix64(seed: seed)
            var means = [[Double]](repeating: [], count: k)
            for _ in 0..<resamples {
                var sum = [Double](repeating: 0, count: k), count = [Int](repeating: 0, count: k)
                for _ in 0..<n {
                    let row = rows[stream.index(below: n)]
                    for s in 0..<k { if let v = row[s] { sum[s] += v; count[s] += 1 } }
                }
                for s in 0..<k where count[s] > 0 { means[s].append(sum[s] / Double(count[s])) }
            }
            let expected: [Bootstrap.Interval?] = means.map { m in
                m.isEmpty ? nil : Bootstrap.Interval(low: percentile(sorted: m.sorted(), 2.5), high: percentile(sorted: m.sorted(), 97.5), resamples: m.count)
            }
            #expect(Bootstrap.intervals(rows: rows, scores: k, resamples: resamples, seed: seed) == expected, "n \(n), \(resamples) resamples, \(k) scores")
        }
    }

    @Test("transcripts' scores kept as distinct rows come back bit for bit, each row kept once")
    func scoreRowsKeptOnce() {
        var rng = SplitMix64(seed: 11)
        for (n, choices) in [(0, 1), (1, 1), (3000, 4), (3000, 1_000_000)] {
            let width = 6
            var rows = ScoreRows(width: width)
            var added: [[UInt64]] = []
            for _ in 0..<n {
                let row: [Double] = (0..<width).map { s in
                    switch rng.index(below: 5) {
                    case 0: .nan
                    case 1: s == 0 ? -0.0 : 0.0
                    default: Double(rng.index(below: choices)) / 7
                    }
                }
                rows.append(row)
                added.append(row.map(\.bitPattern))
            }
            #expect(rows.count == n)
            #expect(rows.distinct == Set(added).count, "\(n) rows of \(choices) values")
            #expect((0..<n).allSatisfy { i in (0..<width).allSatisfy { rows[transcript: i, score: $0].bitPattern == added[i][$0] } })
        }
        // A study's rows repeat: a few distinct rows, however many transcripts.
        var repeated = ScoreRows(width: 3)
        for i in 0..<10_000 { repeated.append([Double(i % 5) / 4, i % 3 == 0 ? .nan : 1, 2]) }
        #expect(repeated.distinct == 10 && repeated.count == 10_000)
    }

    @Test("a fixed resample sequence: the first draws of seed 1 are pinned, so reports stay comparable across versions")
    func generatorPinned() {
        var g = SplitMix64(seed: 1)
        #expect([g.next(), g.next()] == [0x910A_2DEC_8902_5CC1, 0xBEEB_8DA1_658E_EC67])
        var h = SplitMix64(seed: 7)
        let draws = (0..<1000).map { _ in h.index(below: 10) }
        #expect(draws.allSatisfy { (0..<10).contains($0) })
        #expect(Set(draws).count == 10)
    }

    @Test("alpha accumulated one unit at a time equals alpha from the whole matrix")
    func streamingAlpha() throws {
        var rng = SplitMix64(seed: 9)
        var ratings: [RatingMatrix.Rating] = []
        for u in 0..<60 {
            for r in ["a", "b", "c"] where rng.index(below: 4) != 0 {
                ratings.append(.init(unit: "u\(u)", rater: r, category: ["x", "y", "z"][rng.index(below: 3)]))
            }
        }
        let m = try RatingMatrix(ratings: ratings)
        var acc = Coincidences(categories: 3)
        for row in m.values {
            var counts = [0, 0, 0]
            for v in row { if let v { counts[v] += 1 } }
            acc.add(unit: counts)
        }
        for level in [Agreement.Level.nominal, .ordinal] {
            let whole = Agreement.krippendorffAlpha(m, level: level)
            let streamed = Agreement.krippendorffAlpha(acc, level: level)
            #expect(whole == streamed)
        }
    }
}
