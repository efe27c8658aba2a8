import Annotate
import Foundation

extension RatingSources {
    /// The rating matrix of a `unit,rater,label` file, as `RatingMatrix(ratings: csv(path:),
    /// order:)` builds it, read without making a `String` per field: each unit, rater and label
    /// is numbered from its bytes, and named once. A file with a quoted field, or a field with
    /// non-ASCII bytes at an edge (whose trimming follows Unicode), is read the general way, so
    /// the result and every message are the same either way.
    public static func csvMatrix(path: String, order: [String]?) throws -> RatingMatrix {
        try csvMatrix(path: path, order: order, splitAbove: 1 << 20)
    }

    /// `splitAbove`: rows past this many bytes are read in two halves at once (tests set 0, so
    /// that small files take that way too).
    static func csvMatrix(path: String, order: [String]?, splitAbove: Int) throws -> RatingMatrix {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "cannot read the file")])
        }
        let fast: Result<RatingMatrix, any Error>? = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            // ASCII text needs no UTF-8 check (the usual ratings file); other text is validated once.
            guard raw.baseAddress.map({ memchr($0, Int32(UInt8(ascii: "\"")), raw.count) == nil }) ?? true,
                  Self.isASCII(raw) || String(validating: bytes, as: UTF8.self) != nil else { return nil }
            do { return try FastRatings(bytes, path: path).matrix(order: order, splitAbove: splitAbove).map { .success($0) } } catch { return .failure(error) }
        }
        switch fast {
        case .success(let m)?: return m
        case .failure(let e)?: throw e
        case nil: return try RatingMatrix(ratings: try csv(path: path), order: order)
        }
    }
}

extension RatingSources {
    /// Whether every byte is below 0x80, eight at a time.
    static func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        var high: UInt64 = 0
        while i + 8 <= raw.count {
            high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < raw.count { high |= UInt64(raw[i]); i += 1 }
        return high & 0x8080_8080_8080_8080 == 0
    }
}

/// The unquoted, ASCII-edged reading of a ratings file: field ranges, not strings.
private struct FastRatings: @unchecked Sendable {
    // @unchecked: the bytes are the file's, only read, and outlive every reader of them.
    let bytes: UnsafeBufferPointer<UInt8>
    let path: String

    init(_ bytes: UnsafeBufferPointer<UInt8>, path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ line: Int, _ message: String) -> LocatedErrors {
        LocatedErrors([LocatedError(file: path, line: line, column: 1, message: message)])
    }

    func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self) }

    /// Nil when the file needs the general reader (a field with a non-ASCII byte at an edge).
    func matrix(order: [String]?, splitAbove: Int) throws -> RatingMatrix? {
        var at = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
        var fields: [Range<Int>] = []
        var line = 1
        guard let first = Self.row(bytes, at: &at, end: bytes.count, into: &fields, line: &line) else { return nil }
        guard first else { throw fail(1, "the header must name the columns unit, rater and label (found: )") }
        let header = fields.map { text($0).lowercased() }
        guard let u = header.firstIndex(of: "unit"), let r = header.firstIndex(of: "rater"),
              let l = header.firstIndex(where: { ["label", "category", "value"].contains($0) }) else {
            throw fail(1, "the header must name the columns unit, rater and label (found: \(header.joined(separator: ", ")))")
        }
        let columns = Columns(unit: u, rater: r, label: l, count: header.count)
        // A large file's rows are read in two halves at once, the second from just after a line
        // feed (a row ends there, whatever ends the others), each numbering its own names; the
        // second's are then renumbered in the first's tables, in the order it met them: the same
        // first-seen order as one pass, and the same outcome, since the first half's comes first.
        var split = bytes.count
        if bytes.count - at > splitAbove, let lf = (at + (bytes.count - at) / 2..<bytes.count).first(where: { bytes[$0] == 0x0A }) {
            split = lf + 1
        }
        let firstLine = line
        var parts = [Part?](repeating: nil, count: 2)
        if split < bytes.count {
            let ranges = [at..<split, split..<bytes.count]
            // The first half ends up with the whole file's ratings: room for them at once.
            let reserve = [(bytes.count - at) / 24, (bytes.count - split) / 24]
            parts.withUnsafeMutableBufferPointer { out in
                let out = UnsafeParts(out)
                DispatchQueue.concurrentPerform(iterations: 2) { i in out.base[i] = read(ranges[i], columns, firstLine: i == 0 ? firstLine : 1, reserve: reserve[i]) }
            }
        } else {
            parts[0] = read(at..<bytes.count, columns, firstLine: line, reserve: (bytes.count - at) / 24)
        }
        // Taken out of the array, so that the first half's buffers are not copied when it grows.
        var whole = parts[0]!
        let second = parts[1]
        parts = []
        if let second {
            switch (whole.end, second.end) {
            case (.rows, .general): whole.end = .general
            case (.rows, .failed(let line, let message)): whole.end = .failed(line: whole.lines + line - 1, message: message)
            default: break
            }
            if case .rows = whole.end {
                let units = second.units.ranges.map { whole.units.id($0) }
                let raters = second.raters.ranges.map { whole.raters.id($0) }
                let categories = second.categories.ranges.map { whole.categories.id($0) }
                for c in second.coded {
                    whole.coded.append(.init(unit: units[Int(c.unit)], rater: raters[Int(c.rater)], category: categories[Int(c.category)]))
                }
                whole.errors += second.errors.map { LocatedError(file: $0.file, line: whole.lines + $0.line - 1, column: $0.column, message: $0.message) }
            }
        }
        switch whole.end {
        case .general: return nil
        case .failed(let line, let message): throw fail(line, message)
        case .rows: break
        }
        guard whole.errors.isEmpty else { throw LocatedErrors(whole.errors) }
        return try RatingMatrix(units: whole.units.names(), raters: whole.raters.names(), seenCategories: whole.categories.names(),
                                coded: whole.coded, order: order)
    }

    struct Columns {
        let unit: Int, rater: Int, label: Int, count: Int
    }

    /// What reading a stretch of rows gave: its names and ratings, or why it stopped.
    struct Part {
        enum End { case rows, general, failed(line: Int, message: String) }
        var units: Interner, raters: Interner, categories: Interner
        var coded: [RatingMatrix.Coded] = []
        var errors: [LocatedError] = []
        var end = End.rows
        /// The line after the stretch's last row.
        var lines = 1
    }

    /// The rows of `range`, the first on line `firstLine` (the second half's from 1: the caller
    /// moves its lines once the first half has counted its own), with room for `reserve` ratings.
    func read(_ range: Range<Int>, _ c: Columns, firstLine: Int, reserve: Int) -> Part {
        var part = Part(units: Interner(bytes: bytes, capacity: range.count / 24),
                        raters: Interner(bytes: bytes, capacity: 16), categories: Interner(bytes: bytes, capacity: 16))
        part.coded.reserveCapacity(reserve)
        var at = range.lowerBound
        var line = firstLine
        var fields: [Range<Int>] = []
        while true {
            let rowLine = line
            guard let more = Self.row(bytes, at: &at, end: range.upperBound, into: &fields, line: &line) else { part.end = .general; break }
            guard more else { break }
            var blank = true
            for f in fields where !f.isEmpty { blank = false; break }
            if blank { continue }
            guard fields.count > max(c.unit, c.rater, c.label) else {
                part.end = .failed(line: rowLine, message: "expected \(c.count) columns, found \(fields.count)")
                break
            }
            if fields[c.label].isEmpty { continue }
            if fields[c.unit].isEmpty || fields[c.rater].isEmpty {
                let empty = [fields[c.unit].isEmpty ? "unit" : nil, fields[c.rater].isEmpty ? "rater" : nil].compactMap { $0 }
                part.errors.append(LocatedError(file: path, line: rowLine, column: 1,
                                                message: "empty \(empty.joined(separator: " and ")) for the rating '\(text(fields[c.label]))': every rating needs a unit and a rater"))
                continue
            }
            part.coded.append(.init(unit: part.units.id(fields[c.unit]), rater: part.raters.id(fields[c.rater]), category: part.categories.id(fields[c.label])))
        }
        part.lines = line
        return part
    }

    /// The next row's field ranges (blanks trimmed) before `end`: true, false at the end, or nil
    /// when a field has a non-ASCII byte at an edge. `line` moves past the row's line end.
    static func row(_ bytes: UnsafeBufferPointer<UInt8>, at: inout Int, end: Int, into fields: inout [Range<Int>], line: inout Int) -> Bool? {
        guard at < end else { return false }
        fields.removeAll(keepingCapacity: true)
        while true {
            while at < end, bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1 }
            let start = at
            while at < end {
                let b = bytes[at]
                if b == UInt8(ascii: ",") || b == 0x0A || b == 0x0D { break }
                at += 1
            }
            var last = at
            while last > start, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 { last -= 1 }
            if last > start, bytes[start] >= 0x80 || bytes[last - 1] >= 0x80 { return nil }
            fields.append(start..<last)
            guard at < end else { return true }
            let b = bytes[at]
            at += 1
            if b == UInt8(ascii: ",") { continue }
            if b == 0x0D, at < end, bytes[at] == 0x0A { at += 1 }
            line += 1
            return true
        }
    }
}

/// Two parts' slots, each written by one worker only.
private struct UnsafeParts: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<FastRatings.Part?>
    init(_ base: UnsafeMutableBufferPointer<FastRatings.Part?>) { self.base = base }
}

/// Numbers byte strings in first-seen order: an open-addressing table of ids, keyed by the bytes
/// of the file itself, so that a name is made a `String` once, not once per row.
private struct Interner {
    let bytes: UnsafeBufferPointer<UInt8>
    private var slots: [Int32]
    private var mask: Int
    private(set) var ranges: [Range<Int>] = []
    private var hashes: [UInt64] = []
    private var last: Int32 = -1

    init(bytes: UnsafeBufferPointer<UInt8>, capacity: Int) {
        self.bytes = bytes
        var size = 16
        while size < max(16, capacity * 2) { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    private func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let n = a.count
        guard n == b.count else { return false }
        // Ids and labels are short: compared here rather than through a call to memcmp.
        if n <= 32 {
            var i = 0
            while i < n {
                if bytes[a.lowerBound &+ i] != bytes[b.lowerBound &+ i] { return false }
                i &+= 1
            }
            return true
        }
        return memcmp(bytes.baseAddress! + a.lowerBound, bytes.baseAddress! + b.lowerBound, n) == 0
    }

    private func hash(_ r: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in r { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return h
    }

    mutating func id(_ r: Range<Int>) -> Int32 {
        // A unit's rows usually come together.
        if last >= 0, same(ranges[Int(last)], r) { return last }
        // Raters and labels are few: a look along the list beats a hash.
        if ranges.count <= 8 {
            for (k, known) in ranges.enumerated() where same(known, r) { last = Int32(k); return last }
        }
        let h = hash(r)
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 {
            let k = Int(slots[i])
            if hashes[k] == h, same(ranges[k], r) { last = slots[i]; return last }
            i = (i + 1) & mask
        }
        let id = Int32(ranges.count)
        slots[i] = id
        ranges.append(r)
        hashes.append(h)
        last = id
        if ranges.count * 2 > slots.count { grow() }
        return id
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(k)
        }
    }

    func names() -> [String] { ranges.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) } }
}
