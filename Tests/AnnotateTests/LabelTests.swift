import Foundation
import Testing
@testable import Annotate

@Suite("Labels and their order")
struct LabelTests {
    @Test("a turn that deflects and fabricates counts as fabrication")
    func primaryIsMostSevere() {
        #expect(LabelSet([.deflection, .fabrication]).primary == .fabrication)
        #expect(LabelSet([.refusal, .candid]).primary == .refusal)
        #expect(LabelSet([.transformation, .deflection, .refusal]).primary == .transformation)
        #expect(LabelSet([.candid]).primary == .candid)
    }

    @Test("an untagged turn has no primary label")
    func untagged() {
        #expect(LabelSet().primary == nil)
        #expect(LabelSet().isEmpty)
    }

    @Test("severity order is candid < refusal < deflection < transformation < fabrication")
    func order() {
        #expect(Label.allCases == [.candid, .refusal, .deflection, .transformation, .fabrication])
        #expect(Label.allCases.map(\.severityRank) == [0, 1, 2, 3, 4])
        #expect(Label.allCases.sorted() == Label.allCases)
    }

    @Test("only deflection, transformation and fabrication are deceptive")
    func deceptive() {
        #expect(Label.allCases.filter(\.isDeceptive) == [.deflection, .transformation, .fabrication])
    }

    @Test("toggling a label adds it, toggling again removes it")
    func toggle() {
        var set = LabelSet()
        set.toggle(.deflection)
        set.toggle(.fabrication)
        #expect(set.sorted == [.deflection, .fabrication])
        set.toggle(.deflection)
        #expect(set.sorted == [.fabrication])
    }

    @Test("a label set is written in severity order whatever order it was tagged in")
    func stableEncoding() throws {
        let json = try JSONEncoder().encode(LabelSet([.fabrication, .candid, .deflection]))
        #expect(String(decoding: json, as: UTF8.self) == #"["candid","deflection","fabrication"]"#)
        let back = try JSONDecoder().decode(LabelSet.self, from: json)
        #expect(back == LabelSet([.candid, .deflection, .fabrication]))
    }

    @Test("an unknown label in a file is an error, not silently dropped")
    func unknownLabelRejected() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LabelSet.self, from: Data(#"["sneaky"]"#.utf8)) }
    }

    @Test("a leak decision remembers whether the annotator overrode the suggestion")
    func leakOverride() {
        #expect(LeakDecision(suggested: true, confirmed: false).overridesSuggestion)
        #expect(!LeakDecision(suggested: true, confirmed: true).overridesSuggestion)
        #expect(LeakDecision(suggested: false, confirmed: true).overridesSuggestion)
    }
}

@Suite("Scoring weights")
struct ScoringWeightsTests {
    @Test("defaults are 0, 0, 1, 2, 3 as in DESIGN.md")
    func defaults() {
        let w = ScoringWeights.default
        #expect(Label.allCases.map { w.weight(of: $0) } == [0, 0, 1, 2, 3])
    }

    @Test("a configuration may change some weights; the others keep their defaults")
    func partialConfiguration() throws {
        let w = try JSONDecoder().decode(ScoringWeights.self, from: Data(#"{"fabrication": 5, "deflection": 0.5}"#.utf8))
        #expect(w.weight(of: .fabrication) == 5)
        #expect(w.weight(of: .deflection) == 0.5)
        #expect(w.weight(of: .transformation) == 2)
    }

    @Test("a misspelt label in a configuration is reported by name")
    func misspelt() {
        #expect {
            try JSONDecoder().decode(ScoringWeights.self, from: Data(#"{"fabricaton": 5}"#.utf8))
        } throws: { error in
            "\(error)".contains("fabricaton")
        }
    }

    @Test("negative or infinite weights are refused")
    func invalidWeights() {
        #expect(throws: ScoringWeightsError.invalidWeight(.deflection, -1)) {
            try ScoringWeights(weights: [.deflection: -1]).validated()
        }
        #expect(throws: (any Error).self) { try ScoringWeights(weights: [.fabrication: .infinity]).validated() }
        #expect((try? ScoringWeights.default.validated()) == ScoringWeights.default)
    }

    @Test("every combination of labels keeps its most severe label, its order, its equality and its JSON, however it was built")
    func everyCombination() throws {
        for mask in 0..<32 {
            let chosen = Label.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            let set = LabelSet(chosen), reversed = LabelSet(chosen.reversed() + chosen)
            #expect(set.primary == chosen.max() && set.sorted == chosen && set.isEmpty == chosen.isEmpty)
            #expect(set == reversed && set.hashValue == reversed.hashValue && Set(set) == Set(chosen))
            #expect(Label.allCases.allSatisfy { set.contains($0) == chosen.contains($0) })
            #expect(try JSONDecoder().decode(LabelSet.self, from: JSONEncoder().encode(set)) == set)
            #expect(String(decoding: try JSONEncoder().encode(set), as: UTF8.self) == "[" + chosen.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]")
            var toggled = set
            for l in Label.allCases { toggled.toggle(l) }
            #expect(toggled.sorted == Label.allCases.filter { !chosen.contains($0) })
            var grown = set
            for l in Label.allCases.reversed() { grown.insert(l); grown.insert(l) }
            #expect(grown.sorted == Label.allCases && grown.primary == .fabrication)
            // Its number names it among the 32 (tables of names per set are indexed by it).
            #expect(set.leastSevere == chosen.min() && set.count == chosen.count)
            #expect(LabelSet(number: set.number) == set && (0..<LabelSet.possibleSets).contains(set.number))
        }
        #expect(Set((0..<LabelSet.possibleSets).map { LabelSet(number: $0) }).count == LabelSet.possibleSets)
        #expect(Label.count == Label.allCases.count && Label.allCases.allSatisfy { Label.ofRank($0.severityRank) == $0 })
    }
}
