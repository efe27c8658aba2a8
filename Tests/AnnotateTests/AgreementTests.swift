import Foundation
import Testing
@testable import Annotate

/// Every agreement figure against the reference implementations (scikit-learn,
/// statsmodels, krippendorff, irrCAC), on the data sets that scripts/agreement_fixtures.py
/// wrote, edge cases included.
@Suite("Agreement statistics against reference implementations")
struct AgreementTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name: String
            var categories: [String]
            var ratings: [[String]]
            var expected: Expected
            /// Figures the reference cannot compute for this case, with the reason; each such
            /// case is worked out by hand below.
            var no_reference: [String: String]?
        }
        struct Expected: Decodable {
            struct Pair: Decodable { var raters: [String]; var kappa: Double?; var units: Int }
            var percent_agreement: Double?
            var cohen_kappa: [Pair]
            var fleiss_kappa: Double?
            var krippendorff_alpha_nominal: Double?
            var krippendorff_alpha_ordinal: Double?
            var gwet_ac1: Double?
        }
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/agreement.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static var caseNames: [String] { fixture.cases.map(\.name) }

    func matrix(_ c: Fixture.Case) throws -> RatingMatrix {
        try RatingMatrix(ratings: c.ratings.map { .init(unit: $0[0], rater: $0[1], category: $0[2]) }, order: c.categories)
    }

    func check(_ figure: AgreementFigure, _ expected: Double?, _ what: String, _ name: String) {
        if let expected {
            guard let value = figure.value else {
                Issue.record("\(name): \(what) is undefined (\(figure.undefinedReason ?? "")), reference says \(expected)")
                return
            }
            #expect(abs(value - expected) <= 1e-9, "\(name): \(what) \(value) ≠ \(expected)")
        } else {
            #expect(figure.value == nil, "\(name): \(what) is \(String(describing: figure.value)), reference says undefined")
            #expect(figure.undefinedReason?.isEmpty == false, "\(name): an undefined \(what) must say why")
        }
    }

    @Test("each figure equals the reference to 1e-9, and is undefined exactly where the reference is", arguments: caseNames)
    func matchesReference(name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        let m = try matrix(c)
        let unchecked = c.no_reference ?? [:]
        #expect(Set(unchecked.keys).isSubset(of: Self.workedByHand[name] ?? []), "\(name): \(unchecked) has no reference and no hand-worked check")
        if unchecked["percent_agreement"] == nil { check(Agreement.percentAgreement(m), c.expected.percent_agreement, "percent agreement", name) }
        check(Agreement.fleissKappa(m), c.expected.fleiss_kappa, "Fleiss' kappa", name)
        check(Agreement.krippendorffAlpha(m, level: .nominal), c.expected.krippendorff_alpha_nominal, "alpha (nominal)", name)
        check(Agreement.krippendorffAlpha(m, level: .ordinal), c.expected.krippendorff_alpha_ordinal, "alpha (ordinal)", name)
        if unchecked["gwet_ac1"] == nil { check(Agreement.gwetAC1(m), c.expected.gwet_ac1, "Gwet's AC1", name) }
        for pair in c.expected.cohen_kappa {
            let a = try #require(m.raters.firstIndex(of: pair.raters[0])), b = try #require(m.raters.firstIndex(of: pair.raters[1]))
            let figure = Agreement.cohenKappa(m, a, b)
            check(figure, pair.kappa, "Cohen's kappa \(pair.raters)", name)
            #expect(figure.units == pair.units)
            #expect(Agreement.confusion(m, a, b).joined().reduce(0, +) == pair.units)
        }
    }

    /// Figures of fixture cases that a reference cannot compute, checked by hand instead.
    static let workedByHand: [String: Set<String>] = ["a single unit": ["percent_agreement", "gwet_ac1"]]

    @Test("a single unit rated deflection, deflection, fabrication: percent agreement 1/3, AC1 0.25 (irrCAC cannot compute it)")
    func singleUnitByHand() throws {
        let c = try #require(Self.fixture.cases.first { $0.name == "a single unit" })
        let m = try matrix(c)
        // One agreeing pair of three: p_a = 1/3. pi = (0, 0, 2/3, 0, 1/3), so
        // p_e = (2/9 + 2/9) / (5 - 1) = 1/9 and AC1 = (1/3 - 1/9) / (1 - 1/9) = 1/4.
        let pa = try #require(Agreement.percentAgreement(m).value)
        let ac1 = try #require(Agreement.gwetAC1(m).value)
        #expect(abs(pa - 1.0 / 3) <= 1e-12)
        #expect(abs(ac1 - 0.25) <= 1e-12)
    }

    @Test("the fixtures cover the edge cases: one category, no overlap, one unit")
    func edgeCasesPresent() {
        let names = Set(Self.caseNames)
        for n in ["one category only", "no overlap between the raters", "a single unit"] { #expect(names.contains(n)) }
    }

    @Test("long-format ratings with categories outside the given order (all named), an order naming a category twice, or a rater rating a unit twice, are refused")
    func badInput() {
        #expect(throws: RatingMatrix.BuildError.categoriesNotInOrder(["odd", "other"])) {
            try RatingMatrix(ratings: [.init(unit: "u", rater: "a", category: "odd"), .init(unit: "u", rater: "b", category: "x"),
                                       .init(unit: "v", rater: "a", category: "other"), .init(unit: "v", rater: "b", category: "odd")], order: ["x"])
        }
        #expect(throws: RatingMatrix.BuildError.duplicateCategory("x")) {
            try RatingMatrix(ratings: [.init(unit: "u", rater: "a", category: "x")], order: ["x", "y", "x"])
        }
        #expect(throws: RatingMatrix.BuildError.conflictingRatings(unit: "u", rater: "a")) {
            try RatingMatrix(ratings: [.init(unit: "u", rater: "a", category: "x"), .init(unit: "u", rater: "a", category: "y")])
        }
    }
}

@Suite("Agreement output order")
struct AgreementOrderTests {
    /// Three raters, the last by name first in the data; two units where they disagree.
    static func report() throws -> AgreementReport {
        let rows: [(String, String, String)] = [
            ("u1", "carol", "refusal"), ("u1", "bob", "candid"), ("u1", "alice", "fabrication"),
            ("u2", "carol", "candid"), ("u2", "alice", "candid"), ("u2", "bob", "candid"),
            ("u3", "bob", "refusal"), ("u3", "carol", "refusal"), ("u3", "alice", "refusal"),
        ]
        let ratings = rows.map { RatingMatrix.Rating(unit: $0.0, rater: $0.1, category: $0.2) }
        var sets: [String: [String: Set<String>]] = [:]
        for r in rows { sets[r.0, default: [:]][r.1] = [r.2] }
        let m = try RatingMatrix(ratings: ratings, order: ["candid", "refusal", "fabrication"])
        return AgreementReport.compute(m, labelSets: sets, labels: ["candid", "refusal", "fabrication"])
    }

    @Test("Cohen's kappa pairs are in rater-name order, each pair's raters sorted, the confusion matrix's rows the first rater's, in every figure")
    func pairsSorted() throws {
        let sorted = [["alice", "bob"], ["alice", "carol"], ["bob", "carol"]]
        let r = try Self.report()
        #expect(r.cohenKappa.map(\.raters) == sorted)
        // alice said fabrication and carol refusal on u1: row fabrication (2), column refusal (1).
        let ac = try #require(r.cohenKappa.first { $0.raters == ["alice", "carol"] })
        #expect(ac.confusion == [[1, 0, 0], [0, 1, 0], [0, 1, 0]], "\(ac.confusion)")
        #expect(r.labelPresence.count == 3)
        for l in r.labelPresence {
            #expect(l.cohenKappa.map(\.raters) == sorted, "\(l.label): \(l.cohenKappa.map(\.raters))")
        }
    }

    @Test("the same ratings give the same JSON every time they are computed")
    func sameEveryTime() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let first = try e.encode(try Self.report())
        for _ in 0..<20 {
            #expect(try e.encode(try Self.report()) == first)
        }
    }
}
