import Foundation

/// A SQL file split into its statements, for a client that sends one statement at a time:
/// a `;` ends a statement only outside quotes ('…', "…"), dollar-quoted bodies ($$…$$,
/// $tag$…$tag$) and comments (-- …, /* … */).
enum SQLScript {
    static func statements(_ sql: String) -> [String] {
        let s = Array(sql.unicodeScalars)
        var out: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        var hasCode = false
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if hasCode, !text.isEmpty { out.append(text) }
            current = .init()
            hasCode = false
        }
        func take(_ n: Int) {
            current.append(contentsOf: s[i..<min(i + n, s.count)])
            i = min(i + n, s.count)
        }
        while i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
            if c == "-" && next == "-" {
                while i < s.count && s[i] != "\n" { i += 1 }
            } else if c == "/" && next == "*" {
                var depth = 0
                repeat {
                    if s[i] == "/" && i + 1 < s.count && s[i + 1] == "*" { depth += 1; i += 2 }
                    else if s[i] == "*" && i + 1 < s.count && s[i + 1] == "/" { depth -= 1; i += 2 }
                    else { i += 1 }
                } while depth > 0 && i < s.count
            } else if c == "'" || c == "\"" {
                hasCode = true
                // E'…' strings take backslash escapes: \' is a quote inside the string.
                let escapes = c == "'" && i > 0 && (s[i - 1] == "E" || s[i - 1] == "e")
                    && (i < 2 || !(s[i - 2].properties.isAlphabetic || s[i - 2] == "_" || ("0"..."9").contains(s[i - 2])))
                take(1)
                while i < s.count {
                    if escapes && s[i] == "\\" { take(2); continue }
                    if s[i] == c {
                        // A doubled quote is one quote inside the string.
                        if i + 1 < s.count && s[i + 1] == c { take(2); continue }
                        take(1)
                        break
                    }
                    take(1)
                }
            } else if c == "$", i == 0 || !(s[i - 1].properties.isAlphabetic || s[i - 1] == "_" || ("0"..."9").contains(s[i - 1])),
                      let tagEnd = dollarTagEnd(s, from: i) {
                hasCode = true
                let tag = Array(s[i...tagEnd])
                take(tag.count)
                while i < s.count {
                    if s[i] == "$" && i + tag.count <= s.count && Array(s[i..<i + tag.count]) == tag { take(tag.count); break }
                    take(1)
                }
            } else if c == ";" {
                flush()
                i += 1
            } else {
                if !c.properties.isWhitespace { hasCode = true }
                take(1)
            }
        }
        flush()
        return out
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `i` ($$ or $name$).
    private static func dollarTagEnd(_ s: [Unicode.Scalar], from i: Int) -> Int? {
        var j = i + 1
        while j < s.count {
            if s[j] == "$" { return j }
            guard s[j] == "_" || s[j].properties.isAlphabetic || (j > i + 1 && ("0"..."9").contains(s[j])) else { return nil }
            j += 1
        }
        return nil
    }
}
