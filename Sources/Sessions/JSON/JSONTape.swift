import Foundation

/// One JSON text parsed into a flat list of tokens that point into its bytes: no string,
/// dictionary or array is made while parsing. The reader of a study checks every line against
/// the schema and picks out the fields it needs from this; building a `JSONValue` tree of
/// dictionaries and strings for every line cost more than everything else together. The bytes
/// must outlive the tape (the reader uses both within one line's callback).
///
/// The grammar is `JSONParser`'s, strict in the same ways (invalid UTF-8, control characters,
/// lone surrogates, numbers out of range, a key given twice, trailing bytes); a test checks
/// that both accept and reject the same texts.
struct JSONTape {
    enum Kind: UInt8 { case null, bool, number, string, array, object }

    struct Token {
        var kind: Kind
        /// bool: its value; string: it holds escapes; number: it is a whole number that fits an Int64.
        var flag: Bool
        /// string: the bytes between the quotes; number: its text.
        var start: Int32
        var length: Int32
        /// array: its items; object: its key–value pairs.
        var count: Int32
        /// The index of the first token after this value (and, in an object, after its key).
        var next: Int32
        /// An object key's hash (of its value), so that finding a key rarely compares bytes;
        /// an object's: bit `h % 32` set for each key hash h, so that most absent keys are told
        /// absent without looking at any key (events are read with many optional keys).
        var hash: UInt32 = 0
    }

    @inline(__always) static func keyBit(_ hash: UInt32) -> UInt32 { 1 << (hash & 31) }

    /// A hash of bytes taken 8 at a time: every key of every line is hashed, and so is each
    /// key a reader asks for. Its low 5 bits are an object's key bits, so they are mixed well.
    @inline(__always) static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let n = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var tail: UInt64 = 0
        // No address only for no bytes: hashed as any other empty key.
        if let p = bytes.baseAddress {
            var i = 0
            while n - i >= 8 {
                h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
                i += 8
            }
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h)
    }

    let bytes: UnsafeRawBufferPointer
    /// A view of the tokens in a `Storage`: a tape is copied into every check and field read
    /// of a line, and an array there cost a retain and a release each time.
    let tokens: UnsafeBufferPointer<Token>
    /// The storage of a tape made on its own; nil when a reader lends one for many lines.
    private let owner: Storage?

    /// Token memory that a reader keeps across the lines of a file: parsing a line into it
    /// reuses its room, and ends the tape of the line before.
    final class Storage {
        fileprivate var buffer = Tokens()
        init() {}
        deinit { buffer.base?.deallocate() }
    }

    /// A growable list of tokens in memory its `Storage` owns.
    fileprivate struct Tokens {
        var base: UnsafeMutablePointer<Token>?
        var count = 0
        var capacity = 0

        @inline(__always) subscript(_ i: Int) -> Token {
            get { base![i] }
            nonmutating set { base![i] = newValue }
        }

        @inline(__always) mutating func append(_ token: Token) {
            if count == capacity { grow() }
            (base! + count).initialize(to: token)
            count += 1
        }

        mutating func grow() {
            let larger = max(64, capacity * 2)
            let fresh = UnsafeMutablePointer<Token>.allocate(capacity: larger)
            if let base {
                fresh.moveInitialize(from: base, count: count)
                base.deallocate()
            }
            base = fresh
            capacity = larger
        }
    }

    /// Parses `bytes` into a storage of its own.
    init(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) {
        let storage = Storage()
        try self.init(bytes, into: storage, owned: true)
    }

    /// Parses `bytes` into `storage`, which the caller keeps while it reads this tape; the
    /// next parse into it ends this tape.
    init(_ bytes: UnsafeRawBufferPointer, into storage: Storage) throws(JSONParseError) {
        try self.init(bytes, into: storage, owned: false)
    }

    private init(_ bytes: UnsafeRawBufferPointer, into storage: Storage, owned: Bool) throws(JSONParseError) {
        self.bytes = bytes
        guard bytes.count < Int(Int32.max) else { throw JSONParseError(offset: 0, reason: "a line of 2 GiB or more") }
        var tokens = storage.buffer
        tokens.count = 0
        // The buffer may have grown: kept whether or not the line is JSON.
        defer { storage.buffer = tokens }
        var p = Scanner(base: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), end: bytes.count)
        p.skipSpace()
        try p.value(depth: 0, into: &tokens)
        p.skipSpace()
        guard p.at == p.end else { throw p.error("bytes after the value") }
        self.tokens = UnsafeBufferPointer(start: tokens.base, count: tokens.count)
        owner = owned ? storage : nil
    }

    // MARK: - Reading

    func kind(_ t: Int) -> Kind { tokens[t].kind }

    /// The bytes of a string token as written (escapes still escaped).
    func raw(_ t: Int) -> UnsafeRawBufferPointer {
        let token = tokens[t]
        return UnsafeRawBufferPointer(rebasing: bytes[Int(token.start)..<Int(token.start + token.length)])
    }

    /// A string token's value.
    func string(_ t: Int) -> String {
        let token = tokens[t]
        let raw = raw(t)
        if !token.flag { return String(decoding: raw, as: UTF8.self) }
        return Self.unescape(raw)
    }

    /// Whether a string token's value is `key`, byte for byte.
    func stringEquals(_ t: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let token = tokens[t]
        if token.flag { return string(t).utf8.elementsEqual(key) }
        return Int(token.length) == key.count && (key.isEmpty || memcmp(bytes.baseAddress! + Int(token.start), key.baseAddress!, key.count) == 0)
    }

    func stringEquals(_ t: Int, _ key: StaticString) -> Bool {
        stringEquals(t, UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    }

    /// Whether the key token `t` is `key` (whose hash is `hash`).
    @inline(__always) func keyEquals(_ t: Int, _ key: UnsafeRawBufferPointer, hash: UInt32) -> Bool {
        let token = tokens[t]
        guard token.hash == hash else { return false }
        if token.flag || key.isEmpty { return stringEquals(t, key) }
        return Int(token.length) == key.count && Self.bytesEqual(bytes.baseAddress! + Int(token.start), key.baseAddress!, key.count)
    }

    /// Whether `count` bytes at `a` and `b` are equal: keys are a few bytes, where a call to
    /// `memcmp` cost more than the comparison. The last word is read where it ends at `count`,
    /// overlapping the one before, so no byte is compared alone and none past `count` is read.
    @inline(__always) static func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        @inline(__always) func same<W: FixedWidthInteger>(_ at: Int, _: W.Type) -> Bool {
            a.loadUnaligned(fromByteOffset: at, as: W.self) == b.loadUnaligned(fromByteOffset: at, as: W.self)
        }
        if count >= 8 {
            var i = 0
            while count - i > 8 {
                if !same(i, UInt64.self) { return false }
                i += 8
            }
            return same(count - 8, UInt64.self)
        }
        if count >= 4 { return same(0, UInt32.self) && same(count - 4, UInt32.self) }
        if count >= 2 { return same(0, UInt16.self) && same(count - 2, UInt16.self) }
        return count == 0 || same(0, UInt8.self)
    }

    func int(_ t: Int) -> Int? {
        let token = tokens[t]
        guard token.kind == .number else { return nil }
        if token.flag { return Int(exactly: parseInt64(token)) }
        return double(t).flatMap { Int(exactly: $0) }
    }

    func double(_ t: Int) -> Double? {
        let token = tokens[t]
        guard token.kind == .number else { return nil }
        if token.flag { return Double(parseInt64(token)) }
        return Double(String(decoding: raw(t), as: UTF8.self))
    }

    private func parseInt64(_ token: Token) -> Int64 {
        var v: Int64 = 0
        var negative = false
        for i in Int(token.start)..<Int(token.start + token.length) {
            let b = bytes[i]
            if b == UInt8(ascii: "-") { negative = true; continue }
            v = v &* 10 &+ Int64(b &- 0x30)
        }
        return negative ? 0 &- v : v
    }

    /// The value token of `key` (whose hash is `hash`) in the object at `t`, or nil.
    func member(_ t: Int, _ key: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
        let object = tokens[t]
        guard object.kind == .object, object.hash & Self.keyBit(hash) != 0 else { return nil }
        var k = t + 1
        for _ in 0..<object.count {
            if keyEquals(k, key, hash: hash) { return k + 1 }
            k = Int(tokens[k + 1].next)
        }
        return nil
    }

    func member(_ t: Int, _ key: StaticBytes) -> Int? { member(t, key.bytes, hash: key.hash) }

    /// Where the next search of an object starts: after the key last found in it. Writers sort
    /// keys and a decoder asks for them in the same order, so each is usually the next one.
    struct Cursor {
        var object = -1
        var key = 0
    }

    /// The same search, starting at `cursor` when it is in the object and going round once.
    func member(_ t: Int, _ key: StaticString, cursor: inout Cursor) -> Int? {
        member(t, UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), cursor: &cursor)
    }

    func member(_ t: Int, _ bytes: UnsafeRawBufferPointer, cursor: inout Cursor) -> Int? {
        // The key at the cursor, compared first without hashing the one asked for: it is
        // usually the one (a key written with escapes is left to the search).
        if cursor.object == t, cursor.key < Int(tokens[t].next), let b = bytes.baseAddress {
            let k = tokens[cursor.key]
            if !k.flag, Int(k.length) == bytes.count, Self.bytesEqual(self.bytes.baseAddress! + Int(k.start), b, bytes.count) {
                let found = cursor.key + 1
                cursor.key = Int(tokens[found].next)
                return found
            }
        }
        return member(t, bytes, hash: Self.hash(bytes), cursor: &cursor)
    }

    private func member(_ t: Int, _ bytes: UnsafeRawBufferPointer, hash: UInt32, cursor: inout Cursor) -> Int? {
        let object = tokens[t]
        guard object.kind == .object, object.hash & Self.keyBit(hash) != 0 else { return nil }
        let first = t + 1, end = Int(object.next)
        var k = cursor.object == t ? cursor.key : first
        for _ in 0..<object.count {
            if k >= end { k = first }
            let after = Int(tokens[k + 1].next)
            if keyEquals(k, bytes, hash: hash) {
                cursor = Cursor(object: t, key: after)
                return k + 1
            }
            k = after
        }
        return nil
    }

    func member(_ t: Int, _ key: StaticString) -> Int? {
        let bytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        return member(t, bytes, hash: Self.hash(bytes))
    }

    /// The key and value tokens of each pair of the object at `t`.
    func pairs(_ t: Int) -> [(key: Int, value: Int)] {
        var out: [(Int, Int)] = []
        var k = t + 1
        for _ in 0..<tokens[t].count {
            out.append((k, k + 1))
            k = Int(tokens[k + 1].next)
        }
        return out
    }

    /// The item tokens of the array at `t`.
    func items(_ t: Int) -> [Int] {
        var out: [Int] = []
        var i = t + 1
        for _ in 0..<tokens[t].count {
            out.append(i)
            i = Int(tokens[i].next)
        }
        return out
    }

    /// The value at `t` as a `JSONValue`, for the rare checks that need one.
    func value(_ t: Int) -> JSONValue {
        let token = tokens[t]
        switch token.kind {
        case .null: return .null
        case .bool: return .bool(token.flag)
        case .number: return token.flag ? .int(parseInt64(token)) : .double(double(t) ?? .nan)
        case .string: return .string(string(t))
        case .array: return .array(items(t).map { value($0) })
        case .object:
            var o: [String: JSONValue] = [:]
            for (k, v) in pairs(t) { o[string(k)] = value(v) }
            return .object(o)
        }
    }

    /// The number of Unicode scalars in a string token's value, counted from its bytes, up to
    /// `atMost` (a `minLength` needs to know no more, and a scenario's text is long).
    func scalarCount(_ t: Int, atMost: Int = .max) -> Int {
        let raw = raw(t)
        var n = 0, i = 0
        while i < raw.count, n < atMost {
            let b = raw[i]
            if b == UInt8(ascii: "\\"), i + 1 < raw.count {
                // \uD83D\uDE00 is one scalar; any other escape is one.
                if raw[i + 1] == UInt8(ascii: "u"), i + 5 < raw.count, raw[i + 2] | 0x20 == UInt8(ascii: "d"),
                   (UInt8(ascii: "8")...UInt8(ascii: "b")).contains(raw[i + 3] | 0x20) || (UInt8(ascii: "8")...UInt8(ascii: "9")).contains(raw[i + 3]) {
                    i += 12
                } else {
                    i += raw[i + 1] == UInt8(ascii: "u") ? 6 : 2
                }
                n += 1
                continue
            }
            if b & 0xC0 != 0x80 { n += 1 }
            i += 1
        }
        return n
    }

    /// Escapes never take more bytes than what they stand for, so the value is written straight
    /// into a string of the raw text's size (a scenario's text in every header is escaped).
    static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: raw.count) { buffer in
            var out = Output(buffer: buffer)
            unescape(raw, into: &out)
            return out.count
        }
    }

    private struct Output {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0
        mutating func append(_ b: UInt8) {
            buffer[count] = b
            count += 1
        }
        mutating func append(contentsOf bytes: some Collection<UInt8>) {
            for b in bytes { append(b) }
        }
        mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return }
            UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            count += bytes.count
        }
    }

    private static func unescape(_ raw: UnsafeRawBufferPointer, into out: inout Output) {
        var i = 0
        while i < raw.count {
            let b = raw[i]
            guard b == UInt8(ascii: "\\"), i + 1 < raw.count else {
                // Copy the run up to the next escape at once.
                let rest = raw.count - i
                let found = memchr(raw.baseAddress! + i, 0x5C, rest)
                let run = found.map { raw.baseAddress!.distance(to: UnsafeRawPointer($0)) - i } ?? rest
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<(i + max(run, 1))]))
                i += max(run, 1)
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                // The scanner checked the digits and the pairing of surrogates.
                func hex(_ at: Int) -> UInt32 {
                    var v: UInt32 = 0
                    for j in at..<(at + 4) {
                        let c = raw[j]
                        v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
                    }
                    return v
                }
                var scalar = hex(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
            default: out.append(e)
            }
        }
    }

    // MARK: - Scanning

    private struct Scanner {
        let base: UnsafePointer<UInt8>?
        let end: Int
        var at = 0

        @inline(__always) func byte(_ i: Int) -> UInt8 { base![i] }
        func error(_ reason: String) -> JSONParseError { JSONParseError(offset: at, reason: reason) }

        @inline(__always) mutating func skipSpace() {
            while at < end {
                switch byte(at) {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int, into tokens: inout Tokens) throws(JSONParseError) {
            guard at < end else { throw error("the text ends where a value should be") }
            switch byte(at) {
            case UInt8(ascii: "{"): try object(depth: depth + 1, into: &tokens)
            case UInt8(ascii: "["): try array(depth: depth + 1, into: &tokens)
            case UInt8(ascii: "\""): try string(into: &tokens)
            case UInt8(ascii: "t"): try literal("true"); push(&tokens, .bool, true)
            case UInt8(ascii: "f"): try literal("false"); push(&tokens, .bool, false)
            case UInt8(ascii: "n"): try literal("null"); push(&tokens, .null, false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(into: &tokens)
            default: throw error("unexpected character")
            }
        }

        @inline(__always) func push(_ tokens: inout Tokens, _ kind: Kind, _ flag: Bool, start: Int = 0, length: Int = 0) {
            tokens.append(Token(kind: kind, flag: flag, start: Int32(start), length: Int32(length), count: 0, next: Int32(tokens.count + 1)))
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard end - at >= n else { throw error("unexpected end") }
            let w = word.utf8Start
            for i in 0..<n where byte(at + i) != w[i] { throw error("unexpected character") }
            at += n
        }

        mutating func object(depth: Int, into tokens: inout Tokens) throws(JSONParseError) {
            guard depth <= JSONParser.maximumDepth else { throw error("nested deeper than \(JSONParser.maximumDepth) levels") }
            let me = tokens.count
            push(&tokens, .object, false)
            at += 1
            var count: Int32 = 0
            skipSpace()
            if at < end, byte(at) == UInt8(ascii: "}") {
                at += 1
                return
            }
            while true {
                guard at < end, byte(at) == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                let keyAt = at
                let key = tokens.count
                try string(into: &tokens)
                let k = tokens[key]
                let raw = UnsafeRawBufferPointer(start: base! + Int(k.start), count: Int(k.length))
                if k.flag {
                    var value = JSONTape.unescape(raw)
                    tokens[key].hash = value.withUTF8 { JSONTape.hash(UnsafeRawBufferPointer($0)) }
                } else {
                    tokens[key].hash = JSONTape.hash(raw)
                }
                // A key whose bit no earlier key set is new: only the others are compared.
                let bit = JSONTape.keyBit(tokens[key].hash)
                if tokens[me].hash & bit != 0 { try checkUnique(key: key, object: me, count: count, at: keyAt, tokens) }
                tokens[me].hash |= bit
                skipSpace()
                guard at < end, byte(at) == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                at += 1
                skipSpace()
                try value(depth: depth, into: &tokens)
                count += 1
                skipSpace()
                guard at < end else { throw error("the text ends inside an object") }
                if byte(at) == UInt8(ascii: ",") { at += 1; skipSpace(); continue }
                if byte(at) == UInt8(ascii: "}") { at += 1; break }
                throw error("expected ',' or '}'")
            }
            tokens[me].count = count
            tokens[me].next = Int32(tokens.count)
        }

        /// A key given twice has no one meaning (readers disagree on which wins).
        func checkUnique(key: Int, object: Int, count: Int32, at offset: Int, _ tokens: Tokens) throws(JSONParseError) {
            let k = tokens[key]
            var other = object + 1
            for _ in 0..<count {
                let o = tokens[other]
                let same: Bool
                if k.hash != o.hash {
                    same = false
                } else if !k.flag && !o.flag {
                    same = k.length == o.length && memcmp(base! + Int(k.start), base! + Int(o.start), Int(k.length)) == 0
                } else {
                    let raw = UnsafeRawBufferPointer(start: base!, count: end)
                    same = JSONTape.unescape(UnsafeRawBufferPointer(rebasing: raw[Int(k.start)..<Int(k.start + k.length)]))
                        == JSONTape.unescape(UnsafeRawBufferPointer(rebasing: raw[Int(o.start)..<Int(o.start + o.length)]))
                }
                if same {
                    let name = JSONTape.unescape(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(start: base!, count: end)[Int(k.start)..<Int(k.start + k.length)]))
                    throw JSONParseError(offset: offset, reason: "the key '\(name)' is given twice")
                }
                other = Int(tokens[other + 1].next)
            }
        }

        mutating func array(depth: Int, into tokens: inout Tokens) throws(JSONParseError) {
            guard depth <= JSONParser.maximumDepth else { throw error("nested deeper than \(JSONParser.maximumDepth) levels") }
            let me = tokens.count
            push(&tokens, .array, false)
            at += 1
            var count: Int32 = 0
            skipSpace()
            if at < end, byte(at) == UInt8(ascii: "]") {
                at += 1
                return
            }
            while true {
                try value(depth: depth, into: &tokens)
                count += 1
                skipSpace()
                guard at < end else { throw error("the text ends inside an array") }
                if byte(at) == UInt8(ascii: ",") { at += 1; skipSpace(); continue }
                if byte(at) == UInt8(ascii: "]") { at += 1; break }
                throw error("expected ',' or ']'")
            }
            tokens[me].count = count
            tokens[me].next = Int32(tokens.count)
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

        mutating func number(into tokens: inout Tokens) throws(JSONParseError) {
            let start = at
            var integral = true
            if byte(at) == UInt8(ascii: "-") { at += 1 }
            guard at < end, isDigit(byte(at)) else { throw error("a number needs a digit") }
            if byte(at) == UInt8(ascii: "0") {
                at += 1
                if at < end, isDigit(byte(at)) { throw error("a number may not start with 0") }
            } else {
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            if at < end, byte(at) == UInt8(ascii: ".") {
                integral = false
                at += 1
                guard at < end, isDigit(byte(at)) else { throw error("a digit must follow '.'") }
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            if at < end, byte(at) | 0x20 == UInt8(ascii: "e") {
                integral = false
                at += 1
                if at < end, byte(at) == UInt8(ascii: "+") || byte(at) == UInt8(ascii: "-") { at += 1 }
                guard at < end, isDigit(byte(at)) else { throw error("a digit must follow the exponent") }
                while at < end, isDigit(byte(at)) { at += 1 }
            }
            let digits = at - start - (byte(start) == UInt8(ascii: "-") ? 1 : 0)
            // Up to 18 digits always fit an Int64; longer ones are read to see.
            if integral, digits > 18 {
                let text = String(decoding: UnsafeBufferPointer(start: base! + start, count: at - start), as: UTF8.self)
                if Int64(text) == nil { integral = false }
            }
            if !integral {
                let text = String(decoding: UnsafeBufferPointer(start: base! + start, count: at - start), as: UTF8.self)
                guard let d = Double(text), d.isFinite else { throw JSONParseError(offset: start, reason: "the number \(text) is out of range") }
            }
            push(&tokens, .number, integral, start: start, length: at - start)
        }

        /// The bytes of `w` (read little-endian) that end or escape a string, are control
        /// characters or (unless `ascii` is already false) are not ASCII, as their high bits.
        /// The lowest bit set is exactly the first such byte (the usual tricks for a byte below
        /// n or equal to c; a borrow can only set bits above it); zero when there is none.
        @inline(__always) static func special(_ w: UInt64, ascii: Bool) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
            let control = (w &- ones &* 0x20) & ~w & highs
            let quote = hasZero(w ^ (ones &* 0x22))
            let backslash = hasZero(w ^ (ones &* 0x5C))
            return control | quote | backslash | (ascii ? w & highs : 0)
        }

        mutating func string(into tokens: inout Tokens) throws(JSONParseError) {
            at += 1
            let start = at
            var escapes = false
            var ascii = true
            while at < end {
                // Text between quotes is mostly plain: skipped a word at a time, up to the first
                // byte that needs a look of its own.
                if end - at >= 8 {
                    let found = Self.special(UInt64(littleEndian: UnsafeRawPointer(base! + at).loadUnaligned(as: UInt64.self)), ascii: ascii)
                    if found == 0 {
                        at += 8
                        continue
                    }
                    at += found.trailingZeroBitCount / 8
                }
                let b = byte(at)
                if b == UInt8(ascii: "\"") { break }
                if b < 0x20 { throw error("a control character inside a string") }
                if b >= 0x80 { ascii = false; at += 1; continue }
                if b == UInt8(ascii: "\\") {
                    escapes = true
                    at += 1
                    guard at < end else { break }
                    switch byte(at) {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        at += 1
                    case UInt8(ascii: "u"):
                        at += 1
                        let scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard end - at >= 6, byte(at) == UInt8(ascii: "\\"), byte(at + 1) == UInt8(ascii: "u") else {
                                throw error("a lone surrogate \\u escape")
                            }
                            at += 2
                            guard (0xDC00...0xDFFF).contains(try hex4()) else { throw error("a lone surrogate \\u escape") }
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw error("a lone surrogate \\u escape")
                        }
                    default:
                        throw error("an unknown escape")
                    }
                    continue
                }
                at += 1
            }
            guard at < end else { throw JSONParseError(offset: start - 1, reason: "a string without its closing quote") }
            // Escapes are ASCII, so the raw bytes are valid UTF-8 exactly when the value is.
            if !ascii, String(validating: UnsafeBufferPointer(start: base! + start, count: at - start), as: UTF8.self) == nil {
                throw JSONParseError(offset: start, reason: "a string that is not valid UTF-8")
            }
            push(&tokens, .string, escapes, start: start, length: at - start)
            at += 1
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard end - at >= 4 else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = byte(at)
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw error("a \\u escape needs four hex digits")
                }
                v = v << 4 | UInt32(d)
                at += 1
            }
            return v
        }
    }
}

/// A key or constant as bytes, made once, for comparing with tape strings without a String.
struct StaticBytes: @unchecked Sendable {
    // @unchecked: the buffer is allocated once, never written after init, never freed.
    let string: String
    let bytes: UnsafeRawBufferPointer
    let hash: UInt32

    init(_ string: String) {
        self.string = string
        var s = string
        hash = s.withUTF8 { JSONTape.hash(UnsafeRawBufferPointer($0)) }
        let utf8 = Array(string.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, utf8.count), alignment: 1)
        buffer.copyBytes(from: utf8)
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<utf8.count])
    }
}
