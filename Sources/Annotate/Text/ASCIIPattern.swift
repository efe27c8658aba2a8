import Foundation

/// A regular expression for text of printable ASCII, matched without ICU, with ICU's verdict.
/// Every line of every transcript has a timestamp and ids checked against the schema's
/// patterns, and a report asks of every question whether it challenges the reply before it:
/// bridging each string to NSString for NSRegularExpression cost more than reading the line.
///
/// Patterns use a subset: literals, classes of ASCII ranges (with `\d \w \s` and their
/// complements), `.`, groups (also `(?:`) with `|`, `? * + {n} {n,} {n,m}`, `^ $ \b \B`, and
/// case-insensitive matching as ICU's flag gives it. A pattern outside it is nil, and text with
/// any character outside printable ASCII (where ICU's Unicode classes, case folding and line
/// ends would matter) gets no verdict: the caller asks ICU, so the verdict is always ICU's.
public struct ASCIIPattern: Sendable {
    private enum State: Sendable {
        /// One printable ASCII byte in the set (bit b of `low` for b < 64, of `high` for the rest).
        case byte(low: UInt64, high: UInt64, next: Int)
        case split(Int, Int)
        case lineStart(next: Int)
        case lineEnd(next: Int)
        /// `\b` (or `\B` when `negated`).
        case wordBoundary(negated: Bool, next: Int)
        case accept
    }

    /// Where in the text a position is, as bits: 1 at the start, 2 at the end, 4 after a word
    /// character, 8 before one (ICU's word characters in ASCII: letters, digits, `_`).
    private static let places = 16
    static let maximumStates = 1024

    private var states: [State] = []
    private var start = 0
    /// Words of a state set.
    private var words = 0
    /// For each state and each place: the byte-reading states and the accept state reachable
    /// without reading, as a bit set of `words` words (`closures[((s * places) + place) * words ...]`).
    private var closures: [UInt64] = []
    /// The same automaton as a table, when it is small: a search reads one entry per byte
    /// instead of walking a set of states.
    private var table: Table?

    /// States are the sets of automaton states a search can be in between two bytes (after
    /// the pattern was started again at that position). Bytes come in classes that every state
    /// treats alike (`code[b - 0x20]` is b's class times 2, plus 1 if b is a word character).
    /// `next[((d * classes) + c) * 2 + w]` is the state after a byte of class c in the middle of
    /// the text, where w says whether the byte after it is a word character; `acceptsLast`
    /// says, for d and c, whether the search has matched when that byte is the last. By class
    /// rather than by byte, the tables of the schema's patterns stay in the fastest cache.
    ///
    /// A class: a pattern is searched on every line and question, and a struct of arrays cost a
    /// retain and a release of each array every time it was taken out of its optional.
    fileprivate final class Table: Sendable {
        let code: [UInt8]
        let classes: Int
        let next: [Int32]
        let acceptsLast: [Bool]
        let accepts: [Bool]
        /// The state before the first byte, by whether it is a word character.
        let first: (Int32, Int32)
        let acceptsEmpty: Bool

        init(code: [UInt8], classes: Int, next: [Int32], acceptsLast: [Bool], accepts: [Bool], first: (Int32, Int32), acceptsEmpty: Bool) {
            self.code = code
            self.classes = classes
            self.next = next
            self.acceptsLast = acceptsLast
            self.accepts = accepts
            self.first = first
            self.acceptsEmpty = acceptsEmpty
        }
    }

    /// Nil when the pattern uses anything outside the subset. `tableStates` bounds the table
    /// (tests set 0 to check the set-walking search on its own).
    public init?(_ pattern: String, caseInsensitive: Bool = false, tableStates: Int = 1024) {
        var parser = Parser(bytes: Array(pattern.utf8), caseInsensitive: caseInsensitive)
        guard let ast = parser.alternation(), parser.at == parser.bytes.count else { return nil }
        states.append(.accept)
        // Closing each state over every place costs states² at worst: a pattern larger than any
        // of ours (`.{0,2000}`) is left to ICU rather than slow a command's start.
        guard let s = compile(ast, then: 0), states.count <= Self.maximumStates else { return nil }
        start = s
        words = (states.count + 63) / 64
        let places = Self.places
        closures = [UInt64](repeating: 0, count: states.count * places * words)
        for s in states.indices {
            for place in 0..<places {
                var seen = Set<Int>()
                var stack = [s]
                while let t = stack.popLast() {
                    guard seen.insert(t).inserted else { continue }
                    switch states[t] {
                    case .accept, .byte: closures[(s * places + place) * words + t / 64] |= 1 << UInt64(t % 64)
                    case .split(let a, let b): stack.append(a); stack.append(b)
                    case .lineStart(let n): if place & 1 != 0 { stack.append(n) }
                    case .lineEnd(let n): if place & 2 != 0 { stack.append(n) }
                    case .wordBoundary(let negated, let n):
                        if ((place & 4 != 0) != (place & 8 != 0)) != negated { stack.append(n) }
                    }
                }
            }
        }
        table = makeTable(limit: tableStates)
    }

    /// Whether searches read a table (else they walk sets of states).
    var hasTable: Bool { table != nil }

    static func isWord(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x5F
    }

    /// Subset construction over printable ASCII; nil when it needs more than `limit` states.
    /// Bytes that every byte-reading state treats alike, and that are alike word characters or
    /// not, lead alike: each such class is stepped once (a report builds its patterns' tables
    /// before it reads a line, and byte by byte this was half of a one-session report's time).
    private func makeTable(limit: Int) -> Table? {
        let places = Self.places, words = words
        // Each printable byte's class; per class, its byte-reading states that accept it.
        var classOf = [Int](repeating: 0, count: 95)
        var accepting: [[UInt64]] = []
        var classWord: [Bool] = []
        var classIds: [[UInt64]: Int] = [:]
        for b in UInt8(0x20)...UInt8(0x7E) {
            var key = [UInt64](repeating: 0, count: words + 1)
            for (s, state) in states.enumerated() {
                if case .byte(let low, let high, _) = state, (b < 64 ? low >> UInt64(b) : high >> UInt64(b - 64)) & 1 == 1 {
                    key[s / 64] |= 1 << UInt64(s % 64)
                }
            }
            key[words] = Self.isWord(b) ? 1 : 0
            if let c = classIds[key] { classOf[Int(b) - 0x20] = c; continue }
            classIds[key] = accepting.count
            classOf[Int(b) - 0x20] = accepting.count
            accepting.append(Array(key.prefix(words)))
            classWord.append(Self.isWord(b))
        }
        func closed(_ place: Int) -> [UInt64] {
            Array(closures[((start * places + place) * words)..<((start * places + place + 1) * words)])
        }
        var ids: [[UInt64]: Int32] = [:]
        var sets: [[UInt64]] = []
        func id(_ set: [UInt64]) -> Int32 {
            if let i = ids[set] { return i }
            ids[set] = Int32(sets.count); sets.append(set)
            return Int32(sets.count - 1)
        }
        let first = (id(closed(1)), id(closed(1 | 8)))
        var next: [Int32] = [], acceptsLast: [Bool] = []
        // Per class, the states after it: before a non-word byte, before a word byte, at the end.
        var middle = [UInt64](repeating: 0, count: words), beforeWord = middle, atEnd = middle
        var classNext: [(Int32, Int32, Bool)] = []
        var d = 0
        while d < sets.count {
            guard sets.count <= limit else { return nil }
            let set = sets[d]
            classNext.removeAll(keepingCapacity: true)
            for c in accepting.indices {
                let after = classWord[c] ? 4 : 0
                for w in 0..<words { middle[w] = 0; beforeWord[w] = 0; atEnd[w] = 0 }
                func add(_ state: Int) {
                    let m = (state * places + after) * words, bw = (state * places + (after | 8)) * words, e = (state * places + (after | 2)) * words
                    for w in 0..<words {
                        middle[w] |= closures[m + w]; beforeWord[w] |= closures[bw + w]; atEnd[w] |= closures[e + w]
                    }
                }
                for w in 0..<words {
                    var bits = set[w] & accepting[c][w]
                    while bits != 0 {
                        let s = w * 64 + bits.trailingZeroBitCount
                        bits &= bits - 1
                        if case .byte(_, _, let n) = states[s] { add(n) }
                    }
                }
                add(start)
                classNext.append((id(middle), id(beforeWord), atEnd[0] & 1 != 0))
            }
            for (m, bw, e) in classNext {
                next.append(m); next.append(bw)
                acceptsLast.append(e)
            }
            d += 1
        }
        let code = (0..<95).map { b in UInt8(classOf[b] * 2 + (classWord[classOf[b]] ? 1 : 0)) }
        return Table(code: code, classes: accepting.count, next: next, acceptsLast: acceptsLast, accepts: sets.map { $0[0] & 1 != 0 },
                     first: first, acceptsEmpty: closures[(start * places + 3) * words] & 1 != 0)
    }

    /// Whether the pattern occurs in `text`; nil when `text` is not all printable ASCII.
    public func matches(_ text: String) -> Bool? {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    /// The same, for a string's UTF-8 bytes.
    public func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        for b in bytes where b < 0x20 || b > 0x7E { return nil }
        if let table { return table.matches(bytes) }
        let words = words
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * words) { sets -> Bool in
            let current = sets.baseAddress!, next = current + words
            current.update(repeating: 0, count: words)
            return closures.withUnsafeBufferPointer { closures -> Bool in
                // A search, as JSON Schema's pattern and NSRegularExpression's firstMatch are: the
                // pattern may start at any position.
                func place(_ position: Int) -> Int {
                    (position == 0 ? 1 : 0) | (position == bytes.count ? 2 : 0)
                        | (position > 0 && Self.isWord(bytes[position - 1]) ? 4 : 0)
                        | (position < bytes.count && Self.isWord(bytes[position]) ? 8 : 0)
                }
                func add(_ state: Int, _ place: Int, into set: UnsafeMutablePointer<UInt64>) {
                    let from = (state * Self.places + place) * words
                    for w in 0..<words { set[w] |= closures[from + w] }
                }
                let acceptBit: UInt64 = 1   // state 0 is accept
                for position in 0...bytes.count {
                    let here = place(position)
                    add(start, here, into: current)
                    if current[0] & acceptBit != 0 { return true }
                    guard position < bytes.count else { break }
                    let b = bytes[position]
                    let there = place(position + 1)
                    next.update(repeating: 0, count: words)
                    for w in 0..<words {
                        var bits = current[w]
                        while bits != 0 {
                            let s = w * 64 + bits.trailingZeroBitCount
                            bits &= bits - 1
                            if case .byte(let low, let high, let n) = states[s],
                               (b < 64 ? low >> UInt64(b) : high >> UInt64(b - 64)) & 1 == 1 {
                                add(n, there, into: next)
                            }
                        }
                    }
                    current.update(from: next, count: words)
                }
                return false
            }
        }
    }

    // MARK: - Compiling

    fileprivate indirect enum Node {
        case set(UInt64, UInt64)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, min: Int, max: Int?)
        case lineStart, lineEnd
        case wordBoundary(negated: Bool)
    }

    /// Emits the states of `node` ending in state `then`; returns its entry state.
    private mutating func compile(_ node: Node, then: Int) -> Int? {
        guard states.count <= Self.maximumStates else { return nil }
        switch node {
        case .set(let low, let high):
            states.append(.byte(low: low, high: high, next: then)); return states.count - 1
        case .lineStart: states.append(.lineStart(next: then)); return states.count - 1
        case .lineEnd: states.append(.lineEnd(next: then)); return states.count - 1
        case .wordBoundary(let negated): states.append(.wordBoundary(negated: negated, next: then)); return states.count - 1
        case .sequence(let parts):
            var entry = then
            for part in parts.reversed() { guard let e = compile(part, then: entry) else { return nil }; entry = e }
            return entry
        case .alternatives(let options):
            guard var entry = compile(options.last!, then: then) else { return nil }
            for option in options.dropLast().reversed() {
                guard let e = compile(option, then: then) else { return nil }
                states.append(.split(e, entry)); entry = states.count - 1
            }
            return entry
        case .repeated(let inner, let min, let max):
            var entry = then
            if let max {
                // Optional copies, innermost last: x{0,2} = (x(x)?)?
                for _ in 0..<(max - min) {
                    guard let e = compile(inner, then: entry) else { return nil }
                    states.append(.split(e, then)); entry = states.count - 1
                }
            } else {
                // A loop: split → inner → back to the split. An inner part that can match
                // nothing (`(a?)*`) would loop without reading: ICU's handling of that is its
                // own, so such a pattern is left to it.
                guard !inner.canBeEmpty else { return nil }
                states.append(.split(-1, then))
                let loop = states.count - 1
                guard let e = compile(inner, then: loop) else { return nil }
                states[loop] = .split(e, then)
                entry = loop
            }
            for _ in 0..<min { guard let e = compile(inner, then: entry) else { return nil }; entry = e }
            return entry
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        let caseInsensitive: Bool
        var at = 0

        mutating func alternation() -> Node? {
            var options: [Node] = []
            while true {
                guard let s = sequence() else { return nil }
                options.append(s)
                guard at < bytes.count, bytes[at] == UInt8(ascii: "|") else { break }
                at += 1
            }
            return options.count == 1 ? options[0] : .alternatives(options)
        }

        mutating func sequence() -> Node? {
            var parts: [Node] = []
            while at < bytes.count, bytes[at] != UInt8(ascii: "|"), bytes[at] != UInt8(ascii: ")") {
                guard var atom = atom() else { return nil }
                if at < bytes.count {
                    switch bytes[at] {
                    case UInt8(ascii: "?"): at += 1; atom = .repeated(atom, min: 0, max: 1)
                    case UInt8(ascii: "*"): at += 1; atom = .repeated(atom, min: 0, max: nil)
                    case UInt8(ascii: "+"): at += 1; atom = .repeated(atom, min: 1, max: nil)
                    case UInt8(ascii: "{"):
                        guard let (lo, hi) = counts() else { return nil }
                        atom = .repeated(atom, min: lo, max: hi)
                    default: break
                    }
                    // Lazy or possessive quantifiers, and quantified quantifiers, are not in the subset.
                    if at < bytes.count, [UInt8(ascii: "?"), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "{")].contains(bytes[at]) { return nil }
                }
                // A quantified anchor or boundary is ICU's to interpret.
                if case .repeated(let inner, _, _) = atom, inner.isAssertion { return nil }
                parts.append(atom)
            }
            return .sequence(parts)
        }

        mutating func counts() -> (Int, Int?)? {
            at += 1
            func number() -> Int? {
                var n = 0, digits = 0
                while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39, digits < 4 { n = n * 10 + Int(bytes[at] - 0x30); at += 1; digits += 1 }
                return digits == 0 ? nil : n
            }
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if at < bytes.count, bytes[at] == UInt8(ascii: ",") { at += 1; hi = number() }
            guard at < bytes.count, bytes[at] == UInt8(ascii: "}"), hi.map({ $0 >= lo }) ?? true, lo <= 1000, (hi ?? 0) <= 1000 else { return nil }
            at += 1
            return (lo, hi)
        }

        mutating func atom() -> Node? {
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "^"): return .lineStart
            case UInt8(ascii: "$"): return .lineEnd
            case UInt8(ascii: "("):
                // A plain group, or `(?:`; other `(?` forms (flags, look-around, names) are not in the subset.
                if at < bytes.count, bytes[at] == UInt8(ascii: "?") {
                    guard at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: ":") else { return nil }
                    at += 2
                }
                guard let inner = alternation(), at < bytes.count, bytes[at] == UInt8(ascii: ")") else { return nil }
                at += 1
                return inner
            case UInt8(ascii: "["): return characterClass()
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { return nil }
                if bytes[at] == UInt8(ascii: "b") || bytes[at] == UInt8(ascii: "B") {
                    at += 1
                    return .wordBoundary(negated: bytes[at - 1] == UInt8(ascii: "B"))
                }
                return escape().map { folded($0) }.map { .set($0.0, $0.1) }
            case UInt8(ascii: "."):
                // Any character but a line end: in printable ASCII, any.
                return .set(Self.range(0x20, 0x3F).0, Self.range(0x40, 0x7E).1)
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return nil
            default:
                guard (0x20...0x7E).contains(b) else { return nil }
                let (l, h) = folded(Self.range(b, b))
                return .set(l, h)
            }
        }

        /// A set with the other case of each letter added, when matching ignores case.
        func folded(_ set: (UInt64, UInt64)) -> (UInt64, UInt64) {
            guard caseInsensitive else { return set }
            // Upper case letters are bits 1…26 of `high` (0x41…0x5A), lower case bits 33…58 (0x61…0x7A).
            let upper: UInt64 = 0x07FF_FFFE, lower: UInt64 = 0x07FF_FFFE << 32
            let high = set.1 | ((set.1 & upper) << 32) | ((set.1 & lower) >> 32)
            return (set.0, high)
        }

        /// An escaped punctuation character or a class (`\d \w \s` and their complements); other
        /// escapes are not in the subset.
        mutating func escape() -> (UInt64, UInt64)? {
            guard at < bytes.count else { return nil }
            let e = bytes[at]
            at += 1
            let printable = (Self.range(0x20, 0x3F).0, Self.range(0x40, 0x7E).1)
            func complement(_ s: (UInt64, UInt64)) -> (UInt64, UInt64) { (printable.0 & ~s.0, printable.1 & ~s.1) }
            let digits = Self.range(0x30, 0x39)
            let word = (digits.0 | Self.range(0x41, 0x5A).0 | Self.range(0x61, 0x7A).0 | Self.range(0x5F, 0x5F).0,
                        digits.1 | Self.range(0x41, 0x5A).1 | Self.range(0x61, 0x7A).1 | Self.range(0x5F, 0x5F).1)
            // ICU's \s in printable ASCII is the space alone.
            let space = Self.range(0x20, 0x20)
            switch e {
            case UInt8(ascii: "d"): return digits
            case UInt8(ascii: "D"): return complement(digits)
            case UInt8(ascii: "w"): return word
            case UInt8(ascii: "W"): return complement(word)
            case UInt8(ascii: "s"): return space
            case UInt8(ascii: "S"): return complement(space)
            default: break
            }
            guard (0x21...0x7E).contains(e), !(e >= 0x30 && e <= 0x39), !((e | 0x20) >= 0x61 && (e | 0x20) <= 0x7A) else { return nil }
            return Self.range(e, e)
        }

        static func range(_ lo: UInt8, _ hi: UInt8) -> (UInt64, UInt64) {
            var low: UInt64 = 0, high: UInt64 = 0
            for b in lo...hi { if b < 64 { low |= 1 << UInt64(b) } else { high |= 1 << UInt64(b - 64) } }
            return (low, high)
        }

        mutating func characterClass() -> Node? {
            var low: UInt64 = 0, high: UInt64 = 0
            // `[^…]`, `]` first, and `[:name:]` (a POSIX class to ICU) are not in the subset.
            guard at < bytes.count, bytes[at] != UInt8(ascii: "^"), bytes[at] != UInt8(ascii: "]"), bytes[at] != UInt8(ascii: ":") else { return nil }
            while at < bytes.count, bytes[at] != UInt8(ascii: "]") {
                let lo: UInt8
                // `--` is a set difference to ICU: not in the subset.
                if bytes[at] == UInt8(ascii: "-"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "-") { return nil }
                if bytes[at] == UInt8(ascii: "\\") {
                    at += 1
                    // Inside a class, \b is a backspace to ICU: not in the subset.
                    guard let (l, h) = escape() else { return nil }
                    // An escaped character may start a range to ICU (`[\.-9]`): not in the subset.
                    if at + 1 < bytes.count, bytes[at] == UInt8(ascii: "-"), bytes[at + 1] != UInt8(ascii: "]") { return nil }
                    low |= l; high |= h
                    continue
                }
                lo = bytes[at]
                // ICU gives '[', '&&' and friends meaning inside classes: not in the subset.
                guard (0x20...0x7E).contains(lo), lo != UInt8(ascii: "["), lo != UInt8(ascii: "&") else { return nil }
                at += 1
                var hi = lo
                if at + 1 < bytes.count, bytes[at] == UInt8(ascii: "-"), bytes[at + 1] != UInt8(ascii: "]") {
                    hi = bytes[at + 1]
                    guard hi != UInt8(ascii: "-"), hi != UInt8(ascii: "\\"), hi != UInt8(ascii: "["), (0x20...0x7E).contains(hi), hi >= lo else { return nil }
                    at += 2
                }
                let (l, h) = Self.range(lo, hi)
                low |= l; high |= h
            }
            guard at < bytes.count else { return nil }
            at += 1
            return .set(folded((low, high)).0, folded((low, high)).1)
        }
    }
}

private extension ASCIIPattern.Node {
    /// Whether the node can match without reading a byte.
    var canBeEmpty: Bool {
        switch self {
        case .set: false
        case .lineStart, .lineEnd, .wordBoundary: true
        case .sequence(let parts): parts.allSatisfy(\.canBeEmpty)
        case .alternatives(let options): options.contains(where: \.canBeEmpty)
        case .repeated(let inner, let min, _): min == 0 || inner.canBeEmpty
        }
    }

    var isAssertion: Bool {
        switch self {
        case .lineStart, .lineEnd, .wordBoundary: true
        default: false
        }
    }
}

extension ASCIIPattern.Table {
    /// `bytes` are all printable ASCII.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return acceptsEmpty }
        // Every timestamp and id of every line is searched here, a byte at a time.
        return code.withUnsafeBufferPointer { code in
            next.withUnsafeBufferPointer { next in
                accepts.withUnsafeBufferPointer { accepts in
                    let classes = classes
                    var c = Int(code[Int(bytes[0]) - 0x20])
                    var d = Int(c & 1 == 1 ? first.1 : first.0)
                    for k in 1..<bytes.count {
                        if accepts[d] { return true }
                        let after = Int(code[Int(bytes[k]) - 0x20])
                        d = Int(next[(d * classes + (c >> 1)) * 2 + (after & 1)])
                        c = after
                    }
                    return accepts[d] || acceptsLast[d * classes + (c >> 1)]
                }
            }
        }
    }
}

/// A regular expression as ICU compiled it, searched without ICU wherever `ASCIIPattern` can
/// give ICU's verdict: the schema's patterns on every line, the challenge patterns on every
/// question.
///
/// A class, so that taking a pattern from a list retains one reference rather than copying the
/// regex and every array of the automaton (that copy was 3% of a report's time).
public final class ICUPattern: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable once made and safe to use from any thread.
    public let regex: NSRegularExpression
    public let ascii: ASCIIPattern?

    /// `pattern` is the text `regex` was compiled from, with the same case option.
    public init(regex: NSRegularExpression, pattern: String) {
        self.regex = regex
        ascii = ASCIIPattern(pattern, caseInsensitive: regex.options.contains(.caseInsensitive))
    }

    public init(regex: NSRegularExpression, ascii: ASCIIPattern?) {
        self.regex = regex
        self.ascii = ascii
    }

    /// The verdict on text given as UTF-8 bytes, or nil when only ICU can give one.
    public func matches(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool? { ascii?.matches(bytes) }

    public func matches(_ s: String) -> Bool {
        if let verdict = ascii?.matches(s) { return verdict }
        return regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
