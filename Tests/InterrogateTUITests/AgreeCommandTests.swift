import Foundation
@testable import InterrogateTUI
import Sessions
import Testing
import TestSupport

@Suite("interrogate agree")
struct AgreeCommandTests {
    static let binary = TestSupport.product("interrogate")

    struct Fixture: Decodable {
        struct Case: Decodable { var name: String; var categories: [String]; var ratings: [[String]]; var expected: [String: JSONish] }
        var cases: [Case]
    }
    enum JSONish: Decodable {
        case number(Double), null, other
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null } else if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .other }
        }
    }

    @Test("a long-format CSV from another study gives the reference figures, ordinal alpha with --order")
    func csvMatchesReference() throws {
        let url = TestSupport.packageRoot.appendingPathComponent("Tests/AnnotateTests/Fixtures/agreement.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let c = try #require(fixture.cases.first { $0.name == "long-format strings of another study" })
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("ratings.csv").path
        // Columns in another order than the default, as files from elsewhere come.
        try ("rater,label,unit\n" + c.ratings.map { "\($0[1]),\($0[2]),\($0[0])" }.joined(separator: "\n") + "\n")
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try TestSupport.run(Self.binary, ["agree", "--ratings", csv, "--order", c.categories.joined(separator: ","), "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["percent_agreement", "fleiss_kappa", "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "gwet_ac1"] {
            guard case .number(let expected)? = c.expected[key] else { Issue.record("fixture lacks \(key)"); continue }
            let value = try #require(json[key] as? Double, "\(key) missing")
            #expect(abs(value - expected) <= 1e-9, "\(key): \(value) ≠ \(expected)")
        }
        #expect((json["cohen_kappa"] as? [[String: Any]])?.count == 3)

        // Without an order the ordinal alpha is undefined, and says why.
        let unordered = try TestSupport.run(Self.binary, ["agree", "--ratings", csv, "--format", "json"])
        let u = try #require(try JSONSerialization.jsonObject(with: Data(unordered.stdout.utf8)) as? [String: Any])
        #expect(u["krippendorff_alpha_ordinal"] is NSNull)
        #expect((u["krippendorff_alpha_ordinal_undefined_reason"] as? String)?.contains("--order") == true)
    }

    @Test("a CSV without the needed columns is refused with its line, exit 1")
    func badCSV() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("bad.csv").path
        try "item,coder,code\n1,a,x\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try TestSupport.run(Self.binary, ["agree", "--ratings", csv])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(csv):1:1: the header must name the columns unit, rater and label"))
    }
}

@Suite("interrogate agree: argument and rating file errors")
struct AgreeArgumentTests {
    static func ratings(_ text: String) throws -> (dir: URL, path: String) {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent("ratings.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    @Test("--order naming a category twice, or with an empty entry, is a usage error (exit 64) naming it, not a crash",
          arguments: [("x,y,x", "'x'"), ("x, y ,y", "'y'"), ("x,,y", "empty"), ("x,y,", "empty"), ("", "empty")])
    func badOrder(order: String, named: String) throws {
        let f = try Self.ratings("unit,rater,label\nu1,a,x\nu1,b,y\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let r = try TestSupport.run(AgreeCommandTests.binary, ["agree", "--ratings", f.path, "--order", order])
        #expect(r.status == 64, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("--order"), "\(r.stderr)")
        #expect(r.stderr.contains(named), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test("categories in the ratings that --order leaves out are all named, and nothing is computed (exit 1)")
    func orderMissesCategories() throws {
        let f = try Self.ratings("unit,rater,label\nu1,a,low\nu1,b,high\nu2,a,odd\nu2,b,low\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let r = try TestSupport.run(AgreeCommandTests.binary, ["agree", "--ratings", f.path, "--order", "low,mid"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("--order"), "\(r.stderr)")
        #expect(r.stderr.contains("'high'") && r.stderr.contains("'odd'"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("a row with an empty unit or rater is refused with its file and line, not counted as a rater \"\"",
          arguments: [("u1,a,x\n,b,y\n", 3, "unit"), ("u1,a,x\nu1,,y\n", 3, "rater"), ("u1,a,x\nu1,b,y\n\"  \",c,x\n", 4, "unit")])
    func emptyUnitOrRater(rows: String, line: Int, field: String) throws {
        let f = try Self.ratings("unit,rater,label\n" + rows)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let r = try TestSupport.run(AgreeCommandTests.binary, ["agree", "--ratings", f.path, "--format", "json"])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("\(f.path):\(line):"), "\(r.stderr)")
        #expect(r.stderr.contains("empty \(field)"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}

@Suite("interrogate agree on transcripts")
struct AgreeTranscriptTests {
    @Test("one rater per turn: every figure is undefined with its reason, and the command still succeeds")
    func singleRater() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let scenario = try ScenarioLoader.parse(UpdateTests.scenarioYAML, path: "vault.yaml")
        let file = try store.createSession(header: SessionHeader(sessionId: "s1", annotator: "alice",
            scenario: .init(scenario: scenario, condition: .instructed), model: .init(provider: "scripted", name: "demo")))
        try file.append(.message(.init(index: 0, role: .interrogator, text: "Code?")))
        try file.append(.message(.init(index: 1, role: .model, text: "No.", status: .complete)))
        try file.append(.annotation(.init(messageIndex: 1, rater: "alice", annotation: .init(labels: .init([.refusal]), leak: .init(suggested: false, confirmed: false)))))
        let r = try TestSupport.run(AgreeCommandTests.binary, ["agree", dir.path, "--format", "json", "--by", "model"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let group = try #require((json["groups"] as? [[String: Any]])?.first)
        #expect(group["group"] as? String == "scripted:demo")
        #expect(group["units"] as? Int == 1)
        for key in ["percent_agreement", "krippendorff_alpha_nominal", "gwet_ac1"] {
            #expect(group[key] is NSNull)
            #expect((group["\(key)_undefined_reason"] as? String)?.isEmpty == false)
        }
    }

    @Test("agree on the example transcripts prints the same JSON on every run, rater pairs in name order; the table lists them in that order")
    func deterministic() throws {
        let examples = TestSupport.packageRoot.appendingPathComponent("transcripts/examples").path
        var outputs = Set<String>()
        for _ in 0..<12 {
            let r = try TestSupport.run(AgreeCommandTests.binary, ["agree", examples, "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.insert(r.stdout)
        }
        #expect(outputs.count == 1, "\(outputs.count) different outputs")
        let text = try #require(outputs.first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        func pairs(_ list: Any?) -> [[String]] { ((list as? [[String: Any]]) ?? []).map { ($0["raters"] as? [String]) ?? [] } }
        var all = [pairs(json["cohen_kappa"])]
        for l in (json["label_presence"] as? [[String: Any]]) ?? [] { all.append(pairs(l["cohen_kappa"])) }
        #expect(all[0].count >= 1)
        #expect(all.count > 1)
        for list in all {
            #expect(list.allSatisfy { $0.count == 2 && $0[0] < $0[1] }, "\(list)")
            #expect(list.map { $0.joined(separator: "\u{1}") } == list.map { $0.joined(separator: "\u{1}") }.sorted(), "\(list)")
        }
        let table = try TestSupport.run(AgreeCommandTests.binary, ["agree", examples])
        let lines = table.stdout.split(separator: "\n").filter { $0.hasPrefix("Cohen's kappa ") }
        #expect(lines.map { String($0.split(separator: " ").prefix(5).joined(separator: " ")) }
                == all[0].map { "Cohen's kappa \($0[0]) × \($0[1])" })
    }
}
