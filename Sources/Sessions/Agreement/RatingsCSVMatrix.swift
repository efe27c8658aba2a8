import Annotate
import Foundation

extension RatingSources {
    /// The rating matrix of a `unit,rater,label` file, as `RatingMatrix(ratings: csv(path:),
    /// order:)` builds it, read without making a `String` per field: each unit, rater and label
    /// is numbered from its bytes, and named once. A file with a quoted field, or a field with
    /// non-ASCII bytes at an edge (whose trimming follows Unicode), is read the general way, so
    /// the result and every message are the same either way.
    public static func csvMatrix(path: String, order: [String]?) throws -> RatingMatrix {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "cannot read the file")])
        }
        let fast: Result<RatingMatrix, any Error>? = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            // ASCII text needs no UTF-8 check (the usual ratings file); other text is validated once.
            guard raw.baseAddress.map({ memchr($0, Int32(UInt8(ascii: "\"")), raw.count) == nil }) ?? true,
                  Self.isASCII(raw) || String(validating: bytes, as: UTF8.self) != nil else { return nil }
            do { return try FastRatings(bytes, path: path).matrix(order: order).map { .success($0) } } catch { return .failure(error) }
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
private struct FastRatings {
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
    func matrix(order: [String]?) throws -> RatingMatrix? {
        var at = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
        var line = 1
        var fields: [Range<Int>] = []
        /// The next row's field ranges (blanks trimmed), or false at the end.
        func next() -> Bool? {
            guard at < bytes.count else { return false }
            fields.removeAll(keepingCapacity: true)
            while true {
                while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1 }
                let start = at
                while at < bytes.count {
                    let b = bytes[at]
                    if b == UInt8(ascii: ",") || b == 0x0A || b == 0x0D { break }
                    at += 1
                }
                var end = at
                while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
                if end > start, bytes[start] >= 0x80 || bytes[end - 1] >= 0x80 { return nil }
                fields.append(start..<end)
                guard at < bytes.count else { return true }
                let b = bytes[at]
                at += 1
                if b == UInt8(ascii: ",") { continue }
                if b == 0x0D, at < bytes.count, bytes[at] == 0x0A { at += 1 }
                line += 1
                return true
            }
        }
        let headerLine = line
        guard let first = next() else { return nil }
        guard first else { throw fail(1, "the header must name the columns unit, rater and label (found: )") }
        let header = fields.map { text($0).lowercased() }
        guard let u = header.firstIndex(of: "unit"), let r = header.firstIndex(of: "rater"),
              let l = header.firstIndex(where: { ["label", "category", "value"].contains($0) }) else {
            throw fail(headerLine, "the header must name the columns unit, rater and label (found: \(header.joined(separator: ", ")))")
        }
        var units = Interner(bytes: bytes, capacity: bytes.count / 24)
        var raters = Interner(bytes: bytes, capacity: 16), categories = Interner(bytes: bytes, capacity: 16)
        var coded: [RatingMatrix.Coded] = []
        coded.reserveCapacity(bytes.count / 24)
        var errors: [LocatedError] = []
        while true {
            let rowLine = line
            guard let more = next() else { return nil }
            guard more else { break }
            var blank = true
            for f in fields where !f.isEmpty { blank = false; break }
            if blank { continue }
            guard fields.count > max(u, r, l) else { throw fail(rowLine, "expected \(header.count) columns, found \(fields.count)") }
            if fields[l].isEmpty { continue }
            if fields[u].isEmpty || fields[r].isEmpty {
                let empty = [fields[u].isEmpty ? "unit" : nil, fields[r].isEmpty ? "rater" : nil].compactMap { $0 }
                errors.append(LocatedError(file: path, line: rowLine, column: 1,
                                           message: "empty \(empty.joined(separator: " and ")) for the rating '\(text(fields[l]))': every rating needs a unit and a rater"))
                continue
            }
            coded.append(.init(unit: units.id(fields[u]), rater: raters.id(fields[r]), category: categories.id(fields[l])))
        }
        guard errors.isEmpty else { throw LocatedErrors(errors) }
        return try RatingMatrix(units: units.names(), raters: raters.names(), seenCategories: categories.names(), coded: coded, order: order)
    }
}

/// Numbers byte strings in first-seen order: an open-addressing table of ids, keyed by the bytes
/// of the file itself, so that a name is made a `String` once, not once per row.
private struct Interner {
    let bytes: UnsafeBufferPointer<UInt8>
    private var slots: [Int32]
    private var mask: Int
    private var ranges: [Range<Int>] = []
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
