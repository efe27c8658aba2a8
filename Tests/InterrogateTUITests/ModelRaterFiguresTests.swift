import Annotate
import Foundation
import Sessions
import Testing
import TestSupport

/// What `agree` and `report` say when model judges have labelled beside people: people's
/// figures are never mixed with a model's unless asked, and a judge is measured against them.
@Suite("Figures with model judges among the raters")
struct ModelRaterFiguresTests {
    static let binary = TestSupport.product("interrogate")

    /// Two people and two judges on three sessions of two turns; carol adjudicates three turns.
    /// People call every reply candid or refusal; judge:m calls them fabrication except one,
    /// judge:n agrees with the people except once.
    static func study() throws -> URL {
        let root = try TestSupport.temporaryDirectory("model-raters")
        for i in 0..<3 {
            try StudyFixture.session(in: root, id: "s\(i)", replies: [
                .init("q1", "a1", ["alice": ([.candid], false), "bob": ([.candid], false), "judge:m": ([.fabrication], false), "judge:n": ([.candid], false)],
                      adjudication: i < 2 ? (rater: "carol", labels: [.candid], leak: false) : nil),
                .init("q2", "a2", ["alice": ([.refusal], false), "bob": ([.refusal], false),
                                   "judge:m": (i == 0 ? [.refusal] : [.fabrication], false), "judge:n": (i == 2 ? [.deflection] : [.refusal], false)],
                      adjudication: i == 0 ? (rater: "carol", labels: [.refusal], leak: false) : nil),
            ])
        }
        return root
    }

    @Test("agree measures people, model judges, each person × judge, everyone pooled, and each judge against adjudications")
    func agreementByKind() async throws {
        try await TestSupport.offPool { try Self.agreementByKindBody() }
    }

    static func agreementByKindBody() throws {
        let root = try Self.study()
        let r = try TestSupport.run(Self.binary, ["agree", root.path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let g = try #require((json["groups"] as? [[String: Any]])?.first)
        func raters(_ key: String) -> [String] { ((g[key] as? [String: Any])?["raters"] as? [String]) ?? [] }
        #expect(raters("people") == ["alice", "bob"] && raters("models") == ["judge:m", "judge:n"])
        #expect(raters("pooled") == ["alice", "bob", "judge:m", "judge:n"])
        // People agree on everything, also label by label: no judge's labels in their figures.
        #expect((g["people"] as? [String: Any])?["percent_agreement"] as? Double == 1)
        let presence = try #require((g["people"] as? [String: Any])?["label_presence"] as? [[String: Any]])
        for l in presence {
            for pair in (l["cohen_kappa"] as? [[String: Any]]) ?? [] { #expect((pair["raters"] as? [String]) == ["alice", "bob"]) }
            if l["label"] as? String == "candid" { #expect(l["krippendorff_alpha"] as? Double == 1) }
        }
        let pairs = try #require(g["people_models"] as? [[String: Any]])
        #expect(pairs.count == 4)
        let alice_n = try #require(pairs.first { $0["person"] as? String == "alice" && $0["judge"] as? String == "judge:n" })
        // judge:n agrees with alice on 5 of 6 turns.
        #expect(alice_n["units"] as? Int == 6)
        #expect(abs((alice_n["percent_agreement"] as? Double ?? 0) - 5.0 / 6.0) < 1e-12)
        // The same pair's kappa as the pooled report's Cohen's kappa for it.
        let pooledPairs = try #require((g["pooled"] as? [String: Any])?["cohen_kappa"] as? [[String: Any]])
        let same = try #require(pooledPairs.first { ($0["raters"] as? [String]) == ["alice", "judge:n"] })
        #expect(abs((alice_n["cohen_kappa"] as? Double ?? 9) - (same["kappa"] as? Double ?? 8)) < 1e-12)
        // Against carol's adjudications (s0#1 candid, s1#1 candid, s0#3 refusal): judge:m 1 of 3, judge:n 3 of 3.
        let against = try #require(g["judges_against_adjudication"] as? [[String: Any]])
        let m = try #require(against.first { $0["judge"] as? String == "judge:m" }), n = try #require(against.first { $0["judge"] as? String == "judge:n" })
        #expect(m["units"] as? Int == 3 && abs((m["accuracy"] as? Double ?? 0) - 1.0 / 3.0) < 1e-12)
        #expect(n["units"] as? Int == 3 && n["accuracy"] as? Double == 1 && n["cohen_kappa"] as? Double == 1)

        let table = try TestSupport.run(Self.binary, ["agree", root.path])
        for heading in ["== people", "== model judges", "== people × model judges", "== pooled (people and model judges)",
                        "== model judges against adjudicated labels"] {
            #expect(table.stdout.contains(heading), "missing \(heading)")
        }
    }

    @Test("report counts people only unless asked, and says whose labels it counted")
    func reportRaters() async throws {
        try await TestSupport.offPool { try Self.reportRatersBody() }
    }

    static func reportRatersBody() throws {
        let root = try Self.study()
        func report(_ extra: [String]) throws -> (rate: Double?, raters: [String], said: String?, text: String) {
            let r = try TestSupport.run(Self.binary, ["report", root.path, "--format", "json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let g = try #require((json["groups"] as? [[String: Any]])?.first)
            let rate = ((g["scores"] as? [String: Any])?["deception_rate"] as? [String: Any])?["mean"] as? Double
            let text = try TestSupport.run(Self.binary, ["report", root.path] + extra).stdout
            return (rate, g["raters"] as? [String] ?? [], json["raters"] as? String, text)
        }
        let people = try report([])
        #expect(people.raters == ["alice", "bob"] && people.said == "people" && people.rate == 0)
        #expect(people.text.contains("Raters: people only"))
        let models = try report(["--raters", "models"])
        #expect(models.raters == ["judge:m", "judge:n"] && models.said == "models")
        #expect(models.text.contains("Raters: model judges only"))
        let all = try report(["--raters", "all"])
        #expect(all.raters == ["alice", "bob", "judge:m", "judge:n"] && all.said == "all")
    }
}
