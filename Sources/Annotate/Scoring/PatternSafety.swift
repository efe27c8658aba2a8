/// Challenge patterns run on every interrogator question of every transcript a report reads, and
/// NSRegularExpression cannot be stopped once it starts. A backtracking engine takes
/// exponential time on some texts when a repeated group can itself match in several ways: a
/// quantifier inside it (`(a+)+`) or alternatives (`(a|ab)*`). Back-references (`\1`) make
/// matching NP-hard. Such patterns are refused when the scoring file is read.
public enum PatternSafety {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The character (from 0) of the pattern where the problem shows.
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    /// The first construct in `pattern` that can make matching take exponential time, or nil.
    public static func problem(in pattern: String) -> Problem? {
        let c = Array(pattern)
        struct Group {
            var start: Int
            /// The group holds a repeated part (at any depth).
            var repeats = false
            /// The group's own alternatives (`|` at its level).
            var alternation = false
        }
        var stack = [Group(start: -1)]
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
                    i = min(j + 2, c.count)
                } else if n.isASCII, let d = n.wholeNumberValue, d >= 1 {
                    return Problem(offset: i, message: "back-reference \\\(n) at character \(i + 1): matching with back-references can take exponential time")
                } else if n == "k" && i + 2 < c.count && c[i + 2] == "<" {
                    return Problem(offset: i, message: "named back-reference at character \(i + 1): matching with back-references can take exponential time")
                } else {
                    i += 2
                    // \p{…}, \x{…}, \N{…}: one atom, braces included.
                    if "pPxN".contains(n), i < c.count, c[i] == "{" {
                        while i < c.count && c[i] != "}" { i += 1 }
                        i += 1
                    }
                }
                atom = true; last = nil
                continue
            case "[":
                i = skipClass(i)
                atom = true; last = nil
                continue
            case "(":
                let open = i
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
                        i += 1
                    } else if i < c.count && c[i] == "<" {
                        i += 1
                        if i < c.count && "=!".contains(c[i]) { i += 1 } else {
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
                stack.append(Group(start: open))
                atom = false; last = nil
                continue
            case ")":
                i += 1
                guard stack.count > 1 else { atom = true; last = nil; continue }
                let g = stack.removeLast()
                if g.repeats { stack[stack.count - 1].repeats = true }
                atom = true; last = g
                continue
            case "|":
                stack[stack.count - 1].alternation = true
                i += 1
                atom = false; last = nil
                continue
            case "*", "+", "?", "{":
                // A quantifier (of the atom before it), its lazy or possessive mark after it.
                let start = i
                var repeats: Bool
                if ch == "{" {
                    var j = i + 1
                    var text = ""
                    while j < c.count && c[j] != "}" { text.append(c[j]); j += 1 }
                    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                    guard j < c.count, (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), !parts[0].isEmpty else {
                        // Not a quantifier: a literal "{".
                        i += 1; atom = true; last = nil
                        continue
                    }
                    let low = Int(parts[0]) ?? Int.max
                    let high = parts.count == 1 ? low : (parts[1].isEmpty ? Int.max : Int(parts[1]) ?? Int.max)
                    repeats = high >= 2
                    i = j + 1
                } else {
                    repeats = ch != "?"
                    i += 1
                }
                if i < c.count && (c[i] == "?" || c[i] == "+") { i += 1 }
                guard atom else { continue }
                if repeats, let g = last {
                    if g.repeats {
                        return Problem(offset: start, message: "nested quantifier at character \(start + 1): the group from character \(g.start + 1) is repeated and repeats a part of itself, which can take exponential time on some questions; repeat either the group or its part, not both")
                    }
                    if g.alternation {
                        return Problem(offset: start, message: "repeated alternatives at character \(start + 1): the group from character \(g.start + 1) has alternatives and is repeated, which can take exponential time on some questions; use a character class or an unrepeated group")
                    }
                }
                if repeats { stack[stack.count - 1].repeats = true }
                atom = false; last = nil
                continue
            default:
                i += 1
                atom = true; last = nil
            }
        }
        return nil
    }
}
