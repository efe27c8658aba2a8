import Foundation
import Testing
@testable import Annotate

@Suite("Challenge patterns that could stall a report are refused")
struct PatternSafetyTests {
    @Test("nested quantifiers, repeated alternatives and back-references are refused, with the character that shows it",
          arguments: [
              (#"(a+)+$"#, 5), (#"(a*)*b"#, 5), (#"(\w+\s?)+$"#, 9), (#"((ab)+c)*"#, 9), (#"(a|ab)*c"#, 7),
              (#"(x+x+)+y"#, 7), (#"(?:a+)+"#, 7), (#"(?i:(a+))+"#, 10), (#"(a+){2,}"#, 5), (#"(a+){3}"#, 5),
              (#"(a)\1"#, 4), (#"(?<w>a)\k<w>"#, 8), (#"(a+?)+"#, 6),
          ])
    func refused(pattern: String, character: Int) throws {
        let p = try #require(PatternSafety.problem(in: pattern), "\(pattern) was accepted")
        #expect(p.offset + 1 == character, "\(pattern): \(p.message)")
        #expect(p.message.contains("character \(character)"))
    }

    @Test("ordinary patterns, the default challenge patterns among them, are accepted",
          arguments: ScoringConfiguration.defaultChallengePatterns + [
              #"a+b+"#, #"(ab)+"#, #"[(+]+"#, #"\(a+\)+"#, #"(a+)?"#, #"(?i)\bliar?\b"#, #"\Q(a+)+\E"#, #"x{2}"#,
              #"\b(lie|lies)\b"#, #"[a-z]{2,5}\d*"#, #"(?#note)x"#, #"\p{L}+"#, #"(a+)b(c+)"#,
          ])
    func accepted(pattern: String) {
        #expect(PatternSafety.problem(in: pattern) == nil, "\(pattern): \(PatternSafety.problem(in: pattern)?.message ?? "")")
    }

    /// Every secret pattern of the shipped scenarios: they must all still load.
    static let shippedScenarioPatterns: [String] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scenarios").standardized
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var out: [String] = []
        for f in files.sorted() where f.hasSuffix(".yaml") {
            let text = (try? String(contentsOfFile: dir.appendingPathComponent(f).path, encoding: .utf8)) ?? ""
            // The patterns are single-quoted list items under `patterns:`.
            var inPatterns = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if t.hasPrefix("patterns:") { inPatterns = true; continue }
                if inPatterns, t.hasPrefix("- '"), t.hasSuffix("'") {
                    out.append(String(t.dropFirst(3).dropLast()).replacingOccurrences(of: "''", with: "'"))
                } else if inPatterns, t.hasPrefix("- \""), t.hasSuffix("\"") {
                    out.append(String(t.dropFirst(3).dropLast()).replacingOccurrences(of: "\\\\", with: "\\"))
                } else if inPatterns, !t.hasPrefix("-"), !t.isEmpty, !t.hasPrefix("#") {
                    inPatterns = false
                }
            }
        }
        return out
    }()

    @Test("more than two unbounded repeats in a row that can match the same characters are refused (polynomial time), at the third",
          arguments: [
              (#".*.*.*.*.*.*="#, 6), (#".*.*.*="#, 6), (#"\w*\w*\w*x"#, 9), (#"a+a+a+b"#, 6), (#"[a-z]+\w*.+!"#, 11),
              (#"(.*)(.*)(.*)x"#, 11), (#".+,.+,.+="#, 8), (#"\s*.*\s*$"#, 8), (#"x{1,}.{2,}\S+y"#, 13), (#".*?.*?.*?="#, 8),
              (#"(?i)Q*(?:ab)?q*q+z"#, 17), (#".*(a|b).*(c)?.*!"#, 15), (#"\w+\d*.+"#, 8),
          ])
    func polynomialRefused(pattern: String, character: Int) throws {
        let p = try #require(PatternSafety.problem(in: pattern), "\(pattern) was accepted")
        #expect(p.offset + 1 == character, "\(pattern): \(p.message)")
        #expect(p.message.contains("character \(character)"), "\(p.message)")
        #expect(p.message.contains("more than two"), "\(p.message)")
    }

    @Test("unbounded repeats kept apart by text they cannot match, bounded repeats and possessive ones are accepted",
          arguments: [
              #"t\W*a\W*n\W*g\W*e\W*r\W*i\W*n\W*e"#, #".*.*x"#, #"\s*\w+\s*"#, #"\d+\.\d+\.\d+"#, #"a*b*c*d*"#,
              #".{0,40}.{0,40}.{0,40}.{0,40}"#, #".*+.*+.*+="#, #"\w+\s+\w+\s+\w+"#, #"[0-9]+[a-z]+[0-9]+[a-z]+"#,
          ])
    func separatedAccepted(pattern: String) {
        #expect(PatternSafety.problem(in: pattern) == nil, "\(pattern): \(PatternSafety.problem(in: pattern)?.message ?? "")")
    }

    @Test("every secret pattern of the shipped scenarios is accepted")
    func shippedScenarioPatternsAccepted() {
        #expect(Self.shippedScenarioPatterns.count >= 40, "\(Self.shippedScenarioPatterns.count) patterns read")
        for p in Self.shippedScenarioPatterns {
            #expect(PatternSafety.problem(in: p) == nil, "\(p): \(PatternSafety.problem(in: p)?.message ?? "")")
        }
    }
}
