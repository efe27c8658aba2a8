/// The labels one rater gave one model turn. A turn can deflect and fabricate at once.
public struct LabelSet: Hashable, Sendable, Codable, Sequence, CustomStringConvertible {
    public private(set) var labels: Set<Label>

    public init(_ labels: some Sequence<Label> = []) { self.labels = Set(labels) }

    public var isEmpty: Bool { labels.isEmpty }
    public func contains(_ label: Label) -> Bool { labels.contains(label) }
    public mutating func toggle(_ label: Label) {
        if labels.contains(label) { labels.remove(label) } else { labels.insert(label) }
    }

    /// The most severe label present; nil for an untagged turn.
    public var primary: Label? { labels.max() }

    /// Labels in severity order, for stable display and serialisation.
    public var sorted: [Label] { labels.sorted() }

    public func makeIterator() -> IndexingIterator<[Label]> { sorted.makeIterator() }
    public var description: String { sorted.map(\.rawValue).joined(separator: "+") }

    public init(from decoder: Decoder) throws {
        labels = Set(try decoder.singleValueContainer().decode([Label].self))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(sorted)
    }
}
