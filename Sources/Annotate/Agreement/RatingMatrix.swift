/// Ratings of units by raters, each a category or missing: the input of every agreement
/// figure. Categories keep an order, which the ordinal alpha uses.
public struct RatingMatrix: Sendable, Equatable {
    public let units: [String]
    public let raters: [String]
    public let categories: [String]
    /// `values[u][r]`: the index in `categories` of rater r's rating of unit u, or nil.
    public let values: [[Int?]]
    /// Per unit, how many ratings fall in each category: counted once, since every figure but
    /// Cohen's kappa starts from it.
    public let counts: [[Int]]

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
        var coded = [(unit: Int32, rater: Int32, category: Int32)]()
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
            coded.append((Int32(u), Int32(small(r.rater, in: &raters)), Int32(small(r.category, in: &seenCategories))))
        }
        let categories = order ?? seenCategories.sorted()
        var categoryIndex: [String: Int] = [:]
        for (i, c) in categories.enumerated() {
            guard categoryIndex[c] == nil else { throw .duplicateCategory(c) }
            categoryIndex[c] = i
        }
        let missing = seenCategories.filter { categoryIndex[$0] == nil }
        guard missing.isEmpty else { throw .categoriesNotInOrder(missing) }
        let mapping = seenCategories.map { categoryIndex[$0]! }
        var values = Array(repeating: Array(repeating: Int?.none, count: raters.count), count: units.count)
        for (i, r) in coded.enumerated() {
            let c = mapping[Int(r.category)]
            let (u, k) = (Int(r.unit), Int(r.rater))
            if let existing = values[u][k], existing != c { throw .conflictingRatings(unit: ratings[i].unit, rater: ratings[i].rater) }
            values[u][k] = c
        }
        self.init(units: units, raters: raters, categories: categories, values: values)
    }

    public init(units: [String], raters: [String], categories: [String], values: [[Int?]]) {
        self.units = units
        self.raters = raters
        self.categories = categories
        self.values = values
        counts = values.map { row in
            var c = Array(repeating: 0, count: categories.count)
            for v in row { if let v, c.indices.contains(v) { c[v] += 1 } }
            return c
        }
    }


}
