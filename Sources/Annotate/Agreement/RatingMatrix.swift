/// Ratings of units by raters, each a category or missing: the input of every agreement
/// figure. Categories keep an order, which the ordinal alpha uses.
public struct RatingMatrix: Sendable, Equatable {
    public let units: [String]
    public let raters: [String]
    public let categories: [String]
    /// Rater r's rating of unit u at `u * raters.count + r`: a category's index, or −1. One flat
    /// array: a study of 600,000 turns would otherwise be 1.2 million small arrays to allocate.
    private let cells: [Int32]
    /// How many of unit u's ratings fall in category c, at `u * categories.count + c`.
    private let tallies: [Int32]

    /// `values[u][r]`: the index in `categories` of rater r's rating of unit u, or nil.
    public var values: Rows<Int?> { Rows(storage: cells, width: raters.count) }
    /// Per unit, how many ratings fall in each category: counted once, since every figure but
    /// Cohen's kappa starts from it.
    public var counts: Rows<Int> { Rows(storage: tallies, width: categories.count) }

    /// The rows of a flat table, each a collection indexed from 0.
    public struct Rows<Element: FlatCell>: RandomAccessCollection {
        let storage: [Int32]
        let width: Int
        public var startIndex: Int { 0 }
        public var endIndex: Int { width == 0 ? 0 : storage.count / width }
        public subscript(u: Int) -> Row { Row(storage: storage, base: u * width, width: width) }

        public struct Row: RandomAccessCollection {
            let storage: [Int32]
            let base: Int
            let width: Int
            public var startIndex: Int { 0 }
            public var endIndex: Int { width }
            public subscript(i: Int) -> Element {
                precondition(i >= 0 && i < width, "index out of range")
                return Element(cell: storage[base + i])
            }
        }
    }

    public struct Rating: Sendable, Equatable {
        public var unit: String
        public var rater: String
        public var category: String
        public init(unit: String, rater: String, category: String) {
            self.unit = unit
            self.rater = rater
            self.category = category
        }
    }

    public enum BuildError: Error, Equatable, CustomStringConvertible {
        /// Categories the ratings use that the given order leaves out, in first-seen order.
        case categoriesNotInOrder([String])
        /// The given order names a category more than once.
        case duplicateCategory(String)
        case conflictingRatings(unit: String, rater: String)
        public var description: String {
            switch self {
            case .categoriesNotInOrder(let c):
                "the ratings use \(c.count == 1 ? "a category" : "categories") missing from the given order: \(c.map { "'\($0)'" }.joined(separator: ", ")) (the order must list every category)"
            case .duplicateCategory(let c): "the given order names category '\(c)' more than once"
            case let .conflictingRatings(u, r): "rater '\(r)' rated unit '\(u)' twice with different categories"
            }
        }
    }

    /// Builds the matrix from long-format ratings (unit, rater, category). Units and raters
    /// keep their first-seen order; categories follow `order` when given, else sorted.
    public init(ratings: [Rating], order: [String]? = nil) throws(BuildError) {
        // One pass gives each rating its unit, rater and category numbers. A study's file has
        // millions of rows but few raters and categories, and a unit's rows usually come
        // together: those are found without hashing.
        var unitIndex: [String: Int] = [:]
        unitIndex.reserveCapacity(min(ratings.count, 1 << 24) / 2)
        var units: [String] = [], raters: [String] = [], seenCategories: [String] = []
        var coded = [Coded]()
        coded.reserveCapacity(ratings.count)
        var lastUnit: String?, lastUnitNumber = 0
        func small(_ s: String, in list: inout [String]) -> Int {
            if let i = list.firstIndex(of: s) { return i }
            list.append(s)
            return list.count - 1
        }
        for r in ratings {
            let u: Int
            if r.unit == lastUnit { u = lastUnitNumber } else {
                if let known = unitIndex[r.unit] { u = known } else { u = units.count; unitIndex[r.unit] = u; units.append(r.unit) }
                lastUnit = r.unit
                lastUnitNumber = u
            }
            coded.append(Coded(unit: Int32(u), rater: Int32(small(r.rater, in: &raters)), category: Int32(small(r.category, in: &seenCategories))))
        }
        try self.init(units: units, raters: raters, seenCategories: seenCategories, coded: coded, order: order)
    }

    /// One rating by numbers: its unit, rater and category (in first-seen order).
    public struct Coded: Sendable {
        public var unit: Int32
        public var rater: Int32
        public var category: Int32
        public init(unit: Int32, rater: Int32, category: Int32) {
            self.unit = unit
            self.rater = rater
            self.category = category
        }
    }

    /// Builds the matrix from ratings already numbered by a reader (units, raters and the
    /// categories seen, each in first-seen order); categories follow `order` when given, else sorted.
    public init(units: [String], raters: [String], seenCategories: [String], coded: [Coded], order: [String]? = nil) throws(BuildError) {
        let categories = order ?? seenCategories.sorted()
        var categoryIndex: [String: Int] = [:]
        for (i, c) in categories.enumerated() {
            guard categoryIndex[c] == nil else { throw .duplicateCategory(c) }
            categoryIndex[c] = i
        }
        let missing = seenCategories.filter { categoryIndex[$0] == nil }
        guard missing.isEmpty else { throw .categoriesNotInOrder(missing) }
        let mapping = seenCategories.map { Int32(categoryIndex[$0]!) }
        let width = raters.count
        var cells = [Int32](repeating: -1, count: units.count * width)
        for r in coded {
            let c = mapping[Int(r.category)]
            let at = Int(r.unit) * width + Int(r.rater)
            if cells[at] >= 0, cells[at] != c { throw .conflictingRatings(unit: units[Int(r.unit)], rater: raters[Int(r.rater)]) }
            cells[at] = c
        }
        self.init(units: units, raters: raters, categories: categories, cells: cells)
    }

    public init(units: [String], raters: [String], categories: [String], values: [[Int?]]) {
        var cells = [Int32](repeating: -1, count: units.count * raters.count)
        for (u, row) in values.enumerated() {
            for (r, v) in row.prefix(raters.count).enumerated() { if let v { cells[u * raters.count + r] = Int32(clamping: v) } }
        }
        self.init(units: units, raters: raters, categories: categories, cells: cells)
    }

    /// From the flat cells themselves (`cells[u * raters.count + r]`, −1 where missing).
    init(units: [String], raters: [String], categories: [String], cells: [Int32]) {
        self.units = units
        self.raters = raters
        self.categories = categories
        self.cells = cells
        let q = categories.count, width = raters.count
        var tallies = [Int32](repeating: 0, count: units.count * q)
        for u in 0..<units.count {
            for r in 0..<width {
                let v = Int(cells[u * width + r])
                if v >= 0, v < q { tallies[u * q + v] += 1 }
            }
        }
        self.tallies = tallies
    }


}

/// What a cell of a flat rating table reads as: a category's index or nil (−1), or a count.
public protocol FlatCell {
    init(cell: Int32)
}

extension Int: FlatCell {
    public init(cell: Int32) { self = Int(cell) }
}

extension Optional: FlatCell where Wrapped == Int {
    public init(cell: Int32) { self = cell < 0 ? nil : Int(cell) }
}
