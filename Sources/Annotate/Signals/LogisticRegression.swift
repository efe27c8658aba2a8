import Foundation

/// An L2-penalised logistic regression on standardised features: what scikit-learn's
/// `make_pipeline(StandardScaler(), LogisticRegression(C=c))` fits, solved to convergence by
/// Newton's method (the optimum is unique, so any solver that converges finds the same one).
/// The intercept is not penalised; a feature that does not vary is centred and left unscaled.
public struct LogisticRegression: Sendable, Equatable {
    public var mean: [Double]
    public var scale: [Double]
    public var intercept: Double
    /// On the standardised features.
    public var coefficients: [Double]

    /// Fits rows `x` (each of the same width) to outcomes `y`; nil when `y` has one class
    /// only, or the rows are empty or of unequal width.
    public static func fit(x: [[Double]], y: [Bool], c: Double = 1) -> LogisticRegression? {
        guard let width = x.first?.count, x.count == y.count, x.allSatisfy({ $0.count == width }),
              y.contains(true), y.contains(false), c > 0 else { return nil }
        let n = x.count
        var mean = [Double](repeating: 0, count: width), scale = [Double](repeating: 1, count: width)
        for j in 0..<width {
            mean[j] = x.reduce(0) { $0 + $1[j] } / Double(n)
            let variance = x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / Double(n)
            // scikit-learn treats a scale within rounding of zero as one.
            let sd = variance.squareRoot()
            scale[j] = sd < 10 * Double.ulpOfOne * max(1, abs(mean[j])) ? 1 : sd
        }
        // Column 0 is the intercept.
        let z = x.map { row in [1.0] + (0..<width).map { (row[$0] - mean[$0]) / scale[$0] } }
        let d = width + 1
        var w = [Double](repeating: 0, count: d)
        func objective(_ w: [Double]) -> Double {
            var f = 0.0
            for i in 0..<n {
                let m = dot(z[i], w)
                // log(1 + exp(-m)) for y = 1, log(1 + exp(m)) for y = 0, without overflow.
                f += softplus(y[i] ? -m : m)
            }
            for j in 1..<d { f += w[j] * w[j] / (2 * c) }
            return f
        }
        var current = objective(w)
        for _ in 0..<200 {
            var g = [Double](repeating: 0, count: d)
            var h = [Double](repeating: 0, count: d * d)
            for i in 0..<n {
                let p = sigmoid(dot(z[i], w))
                let r = p - (y[i] ? 1 : 0), s = p * (1 - p)
                for a in 0..<d {
                    g[a] += r * z[i][a]
                    for b in 0...a { h[a * d + b] += s * z[i][a] * z[i][b] }
                }
            }
            for j in 1..<d {
                g[j] += w[j] / c
                h[j * d + j] += 1 / c
            }
            for a in 0..<d { for b in 0..<a { h[b * d + a] = h[a * d + b] } }
            guard let step = solve(h, g, d) else { break }
            // Backtracking: a Newton step far from the optimum may overshoot.
            var t = 1.0, next = w, value = current
            while t > 1e-10 {
                next = (0..<d).map { w[$0] - t * step[$0] }
                value = objective(next)
                if value <= current { break }
                t /= 2
            }
            let moved = (0..<d).reduce(0.0) { max($0, abs(next[$1] - w[$1])) }
            w = next
            current = value
            if moved < 1e-13 * max(1, w.reduce(0) { max($0, abs($1)) }) { break }
        }
        return .init(mean: mean, scale: scale, intercept: w[0], coefficients: Array(w[1...]))
    }

    /// The fitted probability of the positive class for a row.
    public func probability(_ row: [Double]) -> Double {
        var m = intercept
        for j in coefficients.indices { m += coefficients[j] * (row[j] - mean[j]) / scale[j] }
        return sigmoid(m)
    }

    /// Out-of-fold probabilities: rows of fold f are predicted by a model fitted on the
    /// others. A fold whose training rows hold one class only gets none (nil).
    public static func crossValidated(x: [[Double]], y: [Bool], fold: [Int], folds: Int, c: Double = 1) -> [Double?] {
        var out = [Double?](repeating: nil, count: x.count)
        for f in 0..<folds {
            let train = x.indices.filter { fold[$0] != f }
            let test = x.indices.filter { fold[$0] == f }
            guard !test.isEmpty, let model = fit(x: train.map { x[$0] }, y: train.map { y[$0] }, c: c) else { continue }
            for i in test { out[i] = model.probability(x[i]) }
        }
        return out
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

private func sigmoid(_ m: Double) -> Double {
    m >= 0 ? 1 / (1 + Foundation.exp(-m)) : Foundation.exp(m) / (1 + Foundation.exp(m))
}

/// log(1 + eᵐ).
private func softplus(_ m: Double) -> Double {
    m > 0 ? m + Foundation.log1p(Foundation.exp(-m)) : Foundation.log1p(Foundation.exp(m))
}

/// Solves the symmetric positive definite system `a x = b` (row-major d×d) by Cholesky.
private func solve(_ a: [Double], _ b: [Double], _ d: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0...i {
            var s = a[i * d + j]
            for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
            if i == j {
                guard s > 0 else { return nil }
                l[i * d + i] = s.squareRoot()
            } else {
                l[i * d + j] = s / l[j * d + j]
            }
        }
    }
    var y = [Double](repeating: 0, count: d)
    for i in 0..<d {
        var s = b[i]
        for k in 0..<i { s -= l[i * d + k] * y[k] }
        y[i] = s / l[i * d + i]
    }
    var x = [Double](repeating: 0, count: d)
    for i in stride(from: d - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<d { s -= l[k * d + i] * x[k] }
        x[i] = s / l[i * d + i]
    }
    return x
}
