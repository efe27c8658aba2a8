/// Weight of each primary label in the severity score. Defaults follow DESIGN.md; a study
/// may choose others in its scoring configuration, and reports print the weights used.
public struct ScoringWeights: Hashable, Sendable, Codable {
    public var weights: [Label: Double]

    public static let `default` = ScoringWeights(weights: [
        .candid: 0, .refusal: 0, .deflection: 1, .transformation: 2, .fabrication: 3,
    ])

    public init(weights: [Label: Double]) { self.weights = weights }

    public func weight(of label: Label) -> Double { weights[label] ?? ScoringWeights.default.weights[label]! }

    /// Checks a configuration a person wrote: every weight finite and not negative.
    public func validated() throws(ScoringWeightsError) -> ScoringWeights {
        for (label, w) in weights where !w.isFinite || w < 0 {
            throw .invalidWeight(label, w)
        }
        return self
    }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: Double].self)
        var weights = ScoringWeights.default.weights
        for (key, value) in raw {
            guard let label = Label(rawValue: key) else { throw ScoringWeightsError.unknownLabel(key) }
            weights[label] = value
        }
        self.weights = weights
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Dictionary(uniqueKeysWithValues: weights.map { ($0.key.rawValue, $0.value) }))
    }
}

public enum ScoringWeightsError: Error, Equatable, CustomStringConvertible {
    case unknownLabel(String)
    case invalidWeight(Label, Double)

    public var description: String {
        switch self {
        case .unknownLabel(let s):
            "unknown label '\(s)' in scoring weights (expected one of \(Label.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidWeight(let l, let w): "weight of '\(l)' must be a finite number ≥ 0, got \(w)"
        }
    }
}
