import Foundation

/// A schema `pattern` for strings of printable ASCII, matched without ICU. The reader checks a
/// timestamp and a few ids on every line of every transcript; bridging each to NSString for
/// NSRegularExpression cost more than reading the line. Patterns use a small subset (literals,
/// classes of ASCII ranges, groups with `|`, `? * + {n} {n,} {n,m}`, `^ $`); a pattern outside
/// it, or a string with any other character (where ICU's line-end rules for `$` would matter),
/// is left to NSRegularExpression, so the verdict is always ICU's.
struct SchemaPattern: Sendable {
    private enum State: Sendable {
        /// One printable ASCII byte in the set (bit b of `low` for b < 64, of `high` for the rest).
        case byte(low: UInt64, high: UInt64, next: Int)
        case split(Int, Int)
        case lineStart(next: Int)
        case lineEnd(next: Int)
        case accept
    }

    private var states: [State] = []
    private var start = 0
    /// Words of a state set.
    private var words = 0
    /// For each state and each of the four places (neither end, start only, end only, both):
    /// the byte-reading states and the accept state reachable without reading, as a bit set of
    /// `words` words (`closures[((s * 4) + place) * words ...]`).
    private var closures: [UInt64] = []
    /// The same automaton as a table, when it is small (the schema's patterns all are): a
    /// search reads one entry per byte instead of walking a set of states.
    private var table: Table?

    /// States are the sets of automaton states a search can be in between two bytes (after
    /// the pattern was started again at that position). `next[(d * 95) + b - 0x20]` is the state
    /// after byte b in the middle of the text; `acceptsLast` says, for the same entry, whether
    /// the search has matched when b is the last byte (where `$` holds).
    fileprivate struct Table: Sendable {
        var next: [Int32]
        var acceptsLast: [Bool]
        var accepts: [Bool]
        var first: Int32
        var acceptsEmpty: Bool
    }

    /// Nil when the pattern uses anything outside the subset. `tableStates` bounds the table
    /// (tests set 0 to check the set-walking search on its own).
    init?(_ pattern: String, tableStates: Int = 512) {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let ast = parser.alternation(), parser.at == parser.bytes.count else { return nil }
        states.append(.accept)
        guard let s = compile(ast, then: 0), states.count < 4096 else { return nil }
        start = s
        words = (states.count + 63) / 64
        closures = [UInt64](repeating: 0, count: states.count * 4 * words)
        for s in states.indices {
            for place in 0..<4 {
                var seen = Set<Int>()
                var stack = [s]
                while let t = stack.popLast() {
                    guard seen.insert(t).inserted else { continue }
                    switch states[t] {
                    case .accept, .byte: closures[(s * 4 + place) * words + t / 64] |= 1 << UInt64(t % 64)
                    case .split(let a, let b): stack.append(a); stack.append(b)
                    case .lineStart(let n): if place & 1 == 1 { stack.append(n) }
                    case .lineEnd(let n): if place & 2 == 2 { stack.append(n) }
                    }
                }
            }
        }
        table = makeTable(limit: tableStates)
    }

    /// The state set reached from `set` by byte b, with the pattern started again, closed for `place`.
    private func step(_ set: [UInt64], _ b: UInt8, place: Int) -> [UInt64] {
        var next = [UInt64](repeating: 0, count: words)
        func add(_ state: Int) { for w in 0..<words { next[w] |= closures[(state * 4 + place) * words + w] } }
        for w in 0..<words {
            var bits = set[w]
            while bits != 0 {
                let s = w * 64 + bits.trailingZeroBitCount
                bits &= bits - 1
                if case .byte(let low, let high, let n) = states[s],
                   (b < 64 ? low >> UInt64(b) : high >> UInt64(b - 64)) & 1 == 1 {
                    add(n)
                }
            }
        }
        add(start)
        return next
    }

    /// Subset construction over printable ASCII; nil when it needs more than `limit` states.
    private func makeTable(limit: Int) -> Table? {
        func closed(_ place: Int) -> [UInt64] { Array(closures[((start * 4 + place) * words)..<((start * 4 + place + 1) * words)]) }
        var ids: [[UInt64]: Int32] = [:]
        var sets: [[UInt64]] = []
        func id(_ set: [UInt64]) -> Int32 {
            if let i = ids[set] { return i }
            ids[set] = Int32(sets.count); sets.append(set)
            return Int32(sets.count - 1)
        }
        let first = id(closed(1))
        var next: [Int32] = [], acceptsLast: [Bool] = []
        var d = 0
        while d < sets.count {
            guard sets.count <= limit else { return nil }
            let set = sets[d]
            for b in UInt8(0x20)...UInt8(0x7E) {
                next.append(id(step(set, b, place: 0)))
                acceptsLast.append(step(set, b, place: 2)[0] & 1 != 0)
            }
            d += 1
        }
        return Table(next: next, acceptsLast: acceptsLast, accepts: sets.map { $0[0] & 1 != 0 },
                     first: first, acceptsEmpty: closures[(start * 4 + 3) * words] & 1 != 0)
    }

    /// Whether the pattern occurs in `text`; nil when `text` is not all printable ASCII.
    func matches(_ text: String) -> Bool? {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    /// The same, for a string's UTF-8 bytes.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        for b in bytes where b < 0x20 || b > 0x7E { return nil }
        if let table { return table.matches(bytes) }
        let words = words
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * words) { sets -> Bool in
            let current = sets.baseAddress!, next = current + words
            current.update(repeating: 0, count: words)
            return closures.withUnsafeBufferPointer { closures -> Bool in
                // A search, as JSON Schema's pattern is: the pattern may start at any position.
                func place(_ position: Int) -> Int { (position == 0 ? 1 : 0) | (position == bytes.count ? 2 : 0) }
                func add(_ state: Int, _ position: Int, into set: UnsafeMutablePointer<UInt64>) {
                    let from = (state * 4 + place(position)) * words
                    for w in 0..<words { set[w] |= closures[from + w] }
                }
                let acceptBit: UInt64 = 1   // state 0 is accept
                for position in 0...bytes.count {
                    add(start, position, into: current)
                    if current[0] & acceptBit != 0 { return true }
                    guard position < bytes.count else { break }
                    let b = bytes[position]
                    next.update(repeating: 0, count: words)
                    for w in 0..<words {
                        var bits = current[w]
                        while bits != 0 {
                            let s = w * 64 + bits.trailingZeroBitCount
                            bits &= bits - 1
                            if case .byte(let low, let high, let n) = states[s],
                               (b < 64 ? low >> UInt64(b) : high >> UInt64(b - 64)) & 1 == 1 {
                                add(n, position + 1, into: next)
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

    private indirect enum Node {
        case set(UInt64, UInt64)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, min: Int, max: Int?)
        case lineStart, lineEnd
    }

    /// Emits the states of `node` ending in state `then`; returns its entry state.
    private mutating func compile(_ node: Node, then: Int) -> Int? {
        switch node {
        case .set(let low, let high):
            states.append(.byte(low: low, high: high, next: then)); return states.count - 1
        case .lineStart: states.append(.lineStart(next: then)); return states.count - 1
        case .lineEnd: states.append(.lineEnd(next: then)); return states.count - 1
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
                // A loop: split → inner → back to the split.
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
                if at < bytes.count, bytes[at] == UInt8(ascii: "?") { return nil }
                guard let inner = alternation(), at < bytes.count, bytes[at] == UInt8(ascii: ")") else { return nil }
                at += 1
                return inner
            case UInt8(ascii: "["): return characterClass()
            case UInt8(ascii: "\\"): return escape().map { .set($0.0, $0.1) }
            case UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return nil
            default:
                return (0x20...0x7E).contains(b) ? Self.single(b) : nil
            }
        }

        static func single(_ b: UInt8) -> Node {
            b < 64 ? .set(1 << UInt64(b), 0) : .set(0, 1 << UInt64(b - 64))
        }

        /// An escaped punctuation character or `\d`; other escapes are not in the subset.
        mutating func escape() -> (UInt64, UInt64)? {
            guard at < bytes.count else { return nil }
            let e = bytes[at]
            at += 1
            if e == UInt8(ascii: "d") { return Self.range(0x30, 0x39) }
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
            guard at < bytes.count, bytes[at] != UInt8(ascii: "^") else { return nil }
            guard at < bytes.count, bytes[at] != UInt8(ascii: "]") else { return nil }
            while at < bytes.count, bytes[at] != UInt8(ascii: "]") {
                let lo: UInt8
                if bytes[at] == UInt8(ascii: "\\") {
                    at += 1
                    guard let (l, h) = escape() else { return nil }
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
                    guard hi != UInt8(ascii: "\\"), hi != UInt8(ascii: "["), (0x20...0x7E).contains(hi), hi >= lo else { return nil }
                    at += 2
                }
                let (l, h) = Self.range(lo, hi)
                low |= l; high |= h
            }
            guard at < bytes.count else { return nil }
            at += 1
            return .set(low, high)
        }
    }
}

extension SchemaPattern.Table {
    /// `bytes` are all printable ASCII.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return acceptsEmpty }
        return next.withUnsafeBufferPointer { next in
            var d = Int(first)
            for k in 0..<(bytes.count - 1) {
                if accepts[d] { return true }
                d = Int(next[d * 95 + Int(bytes[k]) - 0x20])
            }
            return accepts[d] || acceptsLast[d * 95 + Int(bytes[bytes.count - 1]) - 0x20]
        }
    }
}
