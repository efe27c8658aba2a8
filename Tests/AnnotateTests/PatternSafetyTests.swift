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
}
