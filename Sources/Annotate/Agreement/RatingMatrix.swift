/// Ratings of units by raters, each a category or missing: the input of every agreement
/// figure. Categories keep an order, which the ordinal alpha uses.
public struct RatingMatrix: Sendable, Equatable {
    public var units: [String]
    public var raters: [String]
    public var categories: [String]
    /// `values[u][r]`: the index in `categories` of rater r's rating of unit u, or nil.
    public var values: [[Int?]]

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
        var unitIndex: [String: Int] = [:], raterIndex: [String: Int] = [:]
        var units: [String] = [], raters: [String] = []
        for r in ratings {
            if unitIndex[r.unit] == nil { unitIndex[r.unit] = units.count; units.append(r.unit) }
            if raterIndex[r.rater] == nil { raterIndex[r.rater] = raters.count; raters.append(r.rater) }
        }
        let categories = order ?? Array(Set(ratings.map(\.category))).sorted()
        var categoryIndex: [String: Int] = [:]
        for (i, c) in categories.enumerated() {
            guard categoryIndex[c] == nil else { throw .duplicateCategory(c) }
            categoryIndex[c] = i
        }
        var missing: [String] = [], seen: Set<String> = []
        for r in ratings where categoryIndex[r.category] == nil && seen.insert(r.category).inserted { missing.append(r.category) }
        guard missing.isEmpty else { throw .categoriesNotInOrder(missing) }
        var values = Array(repeating: Array(repeating: Int?.none, count: raters.count), count: units.count)
        for r in ratings {
            let c = categoryIndex[r.category]!
            let (u, k) = (unitIndex[r.unit]!, raterIndex[r.rater]!)
            if let existing = values[u][k], existing != c { throw .conflictingRatings(unit: r.unit, rater: r.rater) }
            values[u][k] = c
        }
        self.init(units: units, raters: raters, categories: categories, values: values)
    }

    public init(units: [String], raters: [String], categories: [String], values: [[Int?]]) {
        self.units = units
        self.raters = raters
        self.categories = categories
        self.values = values
    }

    /// Per unit, how many ratings fall in each category.
    var counts: [[Int]] {
        values.map { row in
            var c = Array(repeating: 0, count: categories.count)
            for v in row { if let v { c[v] += 1 } }
            return c
        }
    }
}
