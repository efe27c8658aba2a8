import Annotate

/// Choices for seeded tests, on the app's own SplitMix64, so that a failing case is found again.
extension SplitMix64 {
    public mutating func below(_ n: Int) -> Int { index(below: max(1, n)) }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
