/// The labels one rater gave one model turn. A turn can deflect and fabricate at once.
public struct LabelSet: Hashable, Sendable, Codable, Sequence, CustomStringConvertible {
    /// One bit per label, at its severity rank: a study holds one set per rating, and a `Set`
    /// costs an allocation and hashing where five bits do.
    private var bits: UInt8 = 0

    public init(_ labels: some Sequence<Label> = []) {
        for l in labels { bits |= Self.bit(l) }
    }

    /// The set's number among the 32 there are (its bits), and back: a table of something per
    /// label set is indexed by it.
    public var number: Int { Int(bits) }
    public init(number: Int) { bits = UInt8(truncatingIfNeeded: number) & 0x1F }
    public static let possibleSets = 32

    @inline(__always) private static func bit(_ l: Label) -> UInt8 { 1 << UInt8(l.severityRank) }

    public var isEmpty: Bool { bits == 0 }
    public func contains(_ label: Label) -> Bool { bits & Self.bit(label) != 0 }
    public mutating func toggle(_ label: Label) { bits ^= Self.bit(label) }
    public mutating func insert(_ label: Label) { bits |= Self.bit(label) }

    /// The most severe label present; nil for an untagged turn.
    public var primary: Label? { bits == 0 ? nil : Label.ofRank(7 - bits.leadingZeroBitCount) }
    /// The least severe label present; nil for an empty set.
    public var leastSevere: Label? { bits == 0 ? nil : Label.ofRank(bits.trailingZeroBitCount) }
    public var count: Int { bits.nonzeroBitCount }

    /// Labels in severity order, for stable display and serialisation.
    public var sorted: [Label] { (0..<Label.count).compactMap { bits & (1 << UInt8($0)) != 0 ? Label.ofRank($0) : nil } }

    public func makeIterator() -> IndexingIterator<[Label]> { sorted.makeIterator() }
    public var description: String { sorted.map(\.rawValue).joined(separator: "+") }

    public init(from decoder: Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([Label].self))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(sorted)
    }
}
