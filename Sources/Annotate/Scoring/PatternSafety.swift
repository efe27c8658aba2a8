import Foundation

/// Challenge patterns run on every interrogator question of every transcript a report reads,
/// secret patterns on every reply of a live session, and NSRegularExpression cannot be stopped
/// once it starts. A backtracking engine takes exponential time on some texts when a repeated
/// group can itself match in several ways: a quantifier inside it (`(a+)+`) or alternatives
/// (`(a|ab)*`). Back-references (`\1`) make matching NP-hard. And unbounded repeats (`*`, `+`,
/// `{n,}`) one after another that can match the same characters (`.*.*.*=`) share a text in
/// more ways the more of them there are: time grows as the text's length to the power of
/// their number. More than two such repeats in a row are refused; repeats kept apart by text
/// the one before cannot match (`\W*a\W*n`), bounded ones (`.{0,40}`) and possessive ones
/// (`.*+`) do not count. Such patterns are refused when the scoring file or scenario is read.
public enum PatternSafety {
    /// More unbounded repeats than this in a row, able to match the same characters, are refused
    /// (the message says "two": change it with this).
    public static let maximumOverlappingRepeats = 2
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The character (from 0) of the pattern where the problem shows.
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    /// The first construct in `pattern` that can make matching take exponential time, or nil.
    public static func problem(in pattern: String) -> Problem? {
        let c = Array(pattern)
        /// Characters a part of the pattern is tried on, to see whether two parts can match the
        /// same character: a sample of every kind, and every character the pattern names.
        let samples = Array(Set(Array("abcxyzAZ09 \t\n\r.,;:!?-_'\"()[]{}/\\@#$%&*+=<>|~^`£°éÉßü€中ж😀") + c))
        /// A run of unbounded repeats, each able to match a character the one before can: the
        /// characters each may match (of `samples`) and where its quantifier is.
        typealias Run = [(chars: Set<Character>, offset: Int)]
        func longer(_ a: Run, _ b: Run) -> Run { a.count >= b.count ? a : b }
        /// The characters (of `samples`) that the single atom `text` can match, asked of ICU once
        /// per atom: a pattern's letters recur, and each question compiles a regex and tries every
        /// sample (every report checks its scoring file's patterns before reading).
        var known: [String: Set<Character>] = [:]
        func chars(of text: String) -> Set<Character> {
            if let seen = known[text] { return seen }
            let found: Set<Character>
            if let re = try? NSRegularExpression(pattern: "^(?:" + text + ")$", options: [.caseInsensitive, .dotMatchesLineSeparators]) {
                found = Set(samples.filter { ch in
                    let s = String(ch)
                    return re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
                })
            } else {
                found = Set(samples)
            }
            known[text] = found
            return found
        }
        struct Group {
            var start: Int
            /// The group holds a repeated part (at any depth).
            var repeats = false
            /// The group's own alternatives (`|` at its level).
            var alternation = false
            /// The run of repeats when the group opened (each alternative starts from it), and
            /// the longest run at the end of an alternative so far.
            var entry: Run = []
            var best: Run = []
            /// Every character the group's atoms can match.
            var chars: Set<Character> = []
            /// A lookahead or lookbehind: it consumes nothing.
            var lookaround = false
        }
        var stack = [Group(start: -1)]
        var run: Run = []
        /// The run before the last atom, and the characters the atom can match: a quantifier
        /// after it decides what it adds to the run.
        var runBeforeAtom: Run = []
        var atomChars: Set<Character> = []
        /// An atom that must match once: the run goes on only if it can match a character the
        /// last repeat can (`.*a.*`), since else it fixes where that repeat ends (`\W*a\W*`).
        func required(_ set: Set<Character>) {
            runBeforeAtom = run
            atomChars = set
            stack[stack.count - 1].chars.formUnion(set)
            if let l = run.last, !l.chars.isDisjoint(with: set) { return }
            run = []
        }
        /// The atom a quantifier would apply to: a closed group (its contents), or anything else.
        var last: Group? = nil
        var atom = false
        var i = 0

        func skipClass(_ i: Int) -> Int {
            // c[i] == "["; ICU sets nest, and a "]" first in a set is a literal.
            var j = i + 1, depth = 1
            if j < c.count && c[j] == "^" { j += 1 }
            if j < c.count && c[j] == "]" { j += 1 }
            while j < c.count && depth > 0 {
                switch c[j] {
                case "\\": j += 2; continue
                case "[": depth += 1
                case "]": depth -= 1
                default: break
                }
                j += 1
            }
            return j
        }

        while i < c.count {
            let ch = c[i]
            switch ch {
            case "\\":
                guard i + 1 < c.count else { i += 1; atom = true; last = nil; continue }
                let n = c[i + 1]
                if n == "Q" {
                    // Literal text up to \E.
                    var j = i + 2
                    while j < c.count && !(c[j] == "\\" && j + 1 < c.count && c[j + 1] == "E") { j += 1 }
                    let literal = c[min(i + 2, c.count)..<min(j, c.count)]
                    required(Set(literal.flatMap { Array($0.lowercased()) + Array($0.uppercased()) }))
                    i = min(j + 2, c.count)
                } else if n.isASCII, let d = n.wholeNumberValue, d >= 1 {
                    return Problem(offset: i, message: "back-reference \\\(n) at character \(i + 1): matching with back-references can take exponential time")
                } else if n == "k" && i + 2 < c.count && c[i + 2] == "<" {
                    return Problem(offset: i, message: "named back-reference at character \(i + 1): matching with back-references can take exponential time")
                } else {
                    let start = i
                    i += 2
                    // \p{…}, \x{…}, \N{…}: one atom, braces included.
                    if "pPxN".contains(n), i < c.count, c[i] == "{" {
                        while i < c.count && c[i] != "}" { i += 1 }
                        i += 1
                    }
                    // Anchors and word boundaries match no character.
                    if !"bBAzZG".contains(n) { required(chars(of: String(c[start..<min(i, c.count)]))) }
                }
                atom = true; last = nil
                continue
            case "[":
                let start = i
                i = skipClass(i)
                required(chars(of: String(c[start..<min(i, c.count)])))
                atom = true; last = nil
                continue
            case "(":
                let open = i
                var lookaround = false
                i += 1
                if i < c.count && c[i] == "?" {
                    i += 1
                    if i < c.count && c[i] == "#" {
                        // A comment: (?# … ).
                        while i < c.count && c[i] != ")" { i += 1 }
                        i += 1
                        continue
                    }
                    if i < c.count && ":=!>".contains(c[i]) {
                        lookaround = "=!".contains(c[i])
                        i += 1
                    } else if i < c.count && c[i] == "<" {
                        i += 1
                        if i < c.count && "=!".contains(c[i]) { i += 1; lookaround = true } else {
                            while i < c.count && c[i] != ">" { i += 1 }
                            i += 1
                        }
                    } else {
                        // Flags: (?i) sets them and is no group; (?i: … ) is a group.
                        while i < c.count && (c[i].isLetter || c[i] == "-") { i += 1 }
                        if i < c.count && c[i] == ")" { i += 1; atom = false; last = nil; continue }
                        if i < c.count && c[i] == ":" { i += 1 }
                    }
                }
                stack.append(Group(start: open, entry: run, lookaround: lookaround))
                atom = false; last = nil
                continue
            case ")":
                i += 1
                guard stack.count > 1 else { atom = true; last = nil; continue }
                let g = stack.removeLast()
                if g.repeats { stack[stack.count - 1].repeats = true }
                if g.lookaround {
                    // Consumes nothing: the run goes on as before it.
                    run = g.entry
                    atom = false; last = nil
                    continue
                }
                run = longer(g.best, run)
                runBeforeAtom = g.entry
                atomChars = g.chars
                stack[stack.count - 1].chars.formUnion(g.chars)
                atom = true; last = g
                continue
            case "|":
                stack[stack.count - 1].alternation = true
                stack[stack.count - 1].best = longer(stack[stack.count - 1].best, run)
                run = stack[stack.count - 1].entry
                i += 1
                atom = false; last = nil
                continue
            case "*", "+", "?", "{":
                // A quantifier (of the atom before it), its lazy or possessive mark after it.
                let start = i
                var repeats: Bool
                var low = 0, high = Int.max
                if ch == "{" {
                    var j = i + 1
                    var text = ""
                    while j < c.count && c[j] != "}" { text.append(c[j]); j += 1 }
                    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                    guard j < c.count, (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), !parts[0].isEmpty else {
                        // Not a quantifier: a literal "{".
                        required(["{"])
                        i += 1; atom = true; last = nil
                        continue
                    }
                    low = Int(parts[0]) ?? Int.max
                    high = parts.count == 1 ? low : (parts[1].isEmpty ? Int.max : Int(parts[1]) ?? Int.max)
                    repeats = high >= 2
                    i = j + 1
                } else {
                    repeats = ch != "?"
                    low = ch == "+" ? 1 : 0
                    high = ch == "?" ? 1 : Int.max
                    i += 1
                }
                var possessive = false
                if i < c.count && (c[i] == "?" || c[i] == "+") { possessive = c[i] == "+"; i += 1 }
                guard atom else { continue }
                // A possessive repeat gives nothing back, so it is tried one way only: it stays
                // as the atom it was. Otherwise an optional atom may be skipped (the run before
                // it goes on), and an unbounded one joins the run.
                if !possessive && (low == 0 || high == Int.max) {
                    if low == 0 { run = longer(runBeforeAtom, run) }
                    if high == Int.max {
                        if last == nil { run = runBeforeAtom }
                        if let l = run.last, !l.chars.isDisjoint(with: atomChars) {
                            run.append((atomChars, start))
                        } else {
                            run = [(atomChars, start)]
                        }
                        if run.count > maximumOverlappingRepeats {
                            let earlier = run.dropLast().map { String($0.offset + 1) }.joined(separator: ", ")
                            return Problem(offset: start, message: "more than two unbounded repeats in a row at character \(start + 1): the repeats (*, +, {n,}) at characters \(earlier) and \(start + 1) can match the same characters, and the ways of sharing a text between them grow as its length to the power of their number, which can take minutes on a long text; bound one ({0,40}), make it possessive (*+), or keep them apart by text the repeat before cannot match")
                        }
                    }
                }
                if repeats, let g = last {
                    if g.repeats {
                        return Problem(offset: start, message: "nested quantifier at character \(start + 1): the group from character \(g.start + 1) is repeated and repeats a part of itself, which can take exponential time on some texts; repeat either the group or its part, not both")
                    }
                    if g.alternation {
                        return Problem(offset: start, message: "repeated alternatives at character \(start + 1): the group from character \(g.start + 1) has alternatives and is repeated, which can take exponential time on some texts; use a character class or an unrepeated group")
                    }
                }
                if repeats { stack[stack.count - 1].repeats = true }
                atom = false; last = nil
                continue
            default:
                // `^` and `$` match no character; `.` and a literal match one.
                if ch != "^" && ch != "$" { required(chars(of: ch == "." ? "." : NSRegularExpression.escapedPattern(for: String(ch)))) }
                i += 1
                atom = true; last = nil
            }
        }
        return nil
    }
}
