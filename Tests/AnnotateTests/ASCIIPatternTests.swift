import Foundation
import Testing
@testable import Annotate

/// The ASCII matcher gives ICU's verdict (NSRegularExpression's firstMatch), case-sensitive
/// and not, on printable text, and no verdict on anything else.
@Suite("Patterns matched without ICU")
struct ASCIIPatternTests {
    @Test("challenge-style patterns (word boundaries, ignoring case, classes, dots) match as ICU matches them")
    func matchesAsICU() throws {
        let joined = ScoringConfiguration.defaultChallengePatterns.map { "(?:\($0))" }.joined(separator: "|")
        let patterns = ScoringConfiguration.defaultChallengePatterns + [
            joined, #"\Bie"#, #"\b"#, #"\B"#, #"x\b\b"#, #"^\b"#, #"\b$"#, "a.c", #"\w+'s\b"#, #"[a-f]+\s\d"#, #"\W\W"#, #"\S+\?$"#,
            "(?:ab|cd)*e", "^$", #"\D{2,3}_"#, "[A-z]", #"[\w-]+@"#, "Liar|LIAR", "(a|b)+c?$", #"\bnot\b.*\btrue\b"#, "[+-]", "[a-]x", #"[\w-]"#, #"[\.-]"#, "[-a]",
        ]
        var rng = SplitMix64(seed: 29)
        let pieces = ["lie", "LIES", "Liar", "lying", "you said", "are you sure", "that's wrong", "isn't true", "not true", "truth",
                      "_", "a", "B", "c", "e", "ie", "x", "7", "42", " ", " ", "'", "?", ".", "-", "@", "[", "`", "contradicts", "we know", "ab", "cd"]
        for p in patterns {
            for ignoringCase in [true, false] {
                let icu = try NSRegularExpression(pattern: p, options: ignoringCase ? [.caseInsensitive] : [])
                let table = try #require(ASCIIPattern(p, caseInsensitive: ignoringCase), "\(p) is in the subset")
                let walking = try #require(ASCIIPattern(p, caseInsensitive: ignoringCase, tableStates: 0))
                var samples = ["", " ", "_", "lie", "LIE.", "belie", "lie_", "x", "xx"]
                for _ in 0..<500 { samples.append((0..<rng.index(below: 7)).map { _ in pieces[rng.index(below: pieces.count)] }.joined()) }
                for s in samples {
                    let expected = icu.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
                    #expect(table.matches(s) == expected, "\(p) (ignoring case: \(ignoringCase)) on \(s.debugDescription)")
                    #expect(walking.matches(s) == expected, "without the table: \(p) (ignoring case: \(ignoringCase)) on \(s.debugDescription)")
                }
            }
        }
    }

    @Test("text outside printable ASCII gets no verdict, so ICU decides")
    func noVerdictOutsideASCII() throws {
        let p = try #require(ASCIIPattern(#"\blie\b"#, caseInsensitive: true))
        for s in ["é lie", "lie\n", "lie\u{301}", "tab\tlie", "😀"] { #expect(p.matches(s) == nil, "\(s.debugDescription)") }
        #expect(p.matches("a LIE") == true)
    }
}

extension ASCIIPatternTests {
    @Test("the default challenge patterns, joined, are searched with a table")
    func defaultPatternsTabled() throws {
        let joined = ScoringConfiguration.defaultChallengePatterns.map { "(?:\($0))" }.joined(separator: "|")
        let p = try #require(ASCIIPattern(joined, caseInsensitive: true))
        #expect(p.hasTable)
        // Too large for the automaton: ICU's, whatever the text.
        #expect(ASCIIPattern("a{0,1000}b{0,1000}") == nil)
    }
}
