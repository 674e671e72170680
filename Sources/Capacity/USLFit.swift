import Foundation

/// The Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) + κN(N − 1)): throughput X at
/// concurrency N, with λ the throughput of one, σ contention (the serial share) and κ coherency
/// (the cost of keeping N workers in step, which makes throughput fall past a peak).
public struct USLModel: Sendable, Codable, Equatable {
    public var lambda: Double
    public var sigma: Double
    public var kappa: Double

    public init(lambda: Double, sigma: Double, kappa: Double) {
        self.lambda = lambda; self.sigma = sigma; self.kappa = kappa
    }

    public func throughput(at n: Double) -> Double { lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) }

    /// The concurrency of the highest throughput: √((1 − σ)/κ); nil without coherency cost
    /// (throughput then rises towards λ/σ and never falls).
    public var peakConcurrency: Double? { kappa > 0 && sigma < 1 ? ((1 - sigma) / kappa).squareRoot() : nil }

    /// The highest throughput: at the peak, or the asymptote λ/σ without one (nil when unbounded).
    public var peakThroughput: Double? {
        if let peak = peakConcurrency { return throughput(at: peak) }
        return sigma > 0 ? lambda / sigma : nil
    }
}

/// A least-squares fit of the USL to measured (concurrency, throughput) points, and how well it fits.
public struct USLFit: Sendable, Codable, Equatable {
    public var model: USLModel
    /// 1 − SS_residual / SS_total of throughput.
    public var rSquared: Double
    public var points: Int
    /// Why the fit should not be read as the system's law (nil: it fits).
    public var poorFit: String?

    /// The R² below which a fit is called poor.
    public static let minimumRSquared = 0.9
    /// Fewer points than this cannot tell three parameters apart.
    public static let minimumPoints = 4

    /// Fits σ and κ by a coarse grid, then a shrinking pattern search; λ in closed form for each
    /// (σ, κ) (the model is linear in λ). σ and κ are kept in [0, 1] as the law defines them.
    public static func fit(_ points: [(n: Double, x: Double)]) -> USLFit? {
        let points = points.filter { $0.n > 0 && $0.x.isFinite && $0.n.isFinite }
        guard points.count >= 2 else { return nil }
        func lambda(_ sigma: Double, _ kappa: Double) -> Double {
            var xy = 0.0, yy = 0.0
            for p in points {
                let shape = p.n / (1 + sigma * (p.n - 1) + kappa * p.n * (p.n - 1))
                xy += p.x * shape
                yy += shape * shape
            }
            return yy > 0 ? xy / yy : 0
        }
        func error(_ sigma: Double, _ kappa: Double) -> Double {
            let model = USLModel(lambda: lambda(sigma, kappa), sigma: sigma, kappa: kappa)
            return points.reduce(0) { $0 + pow($1.x - model.throughput(at: $1.n), 2) }
        }
        // Coarse: σ linear, κ logarithmic (coherency costs span decades).
        let kappas = [0.0] + stride(from: -9.0, through: 0, by: 0.25).map { pow(10, $0) }
        var best = (sigma: 0.0, kappa: 0.0, error: Double.infinity)
        for sigma in stride(from: 0.0, through: 1.0, by: 0.01) {
            for kappa in kappas {
                let e = error(sigma, kappa)
                if e < best.error { best = (sigma, kappa, e) }
            }
        }
        // Fine: step each parameter up and down, halving the steps when nothing improves.
        var sigmaStep = 0.01, kappaFactor = pow(10, 0.25)
        var kappaFloor = best.kappa == 0 ? 1e-9 : best.kappa
        for _ in 0..<400 where sigmaStep > 1e-9 {
            var improved = false
            let candidates = [(best.sigma + sigmaStep, best.kappa), (best.sigma - sigmaStep, best.kappa),
                              (best.sigma, max(best.kappa, kappaFloor) * kappaFactor), (best.sigma, best.kappa / kappaFactor),
                              (best.sigma, 0)]
            for (sigma, kappa) in candidates where sigma >= 0 && sigma <= 1 && kappa >= 0 && kappa <= 1 {
                let e = error(sigma, kappa)
                if e < best.error {
                    best = (sigma, kappa, e)
                    improved = true
                }
            }
            if best.kappa > 0 { kappaFloor = best.kappa }
            if !improved {
                sigmaStep /= 2
                kappaFactor = kappaFactor.squareRoot()
            }
        }
        let model = USLModel(lambda: lambda(best.sigma, best.kappa), sigma: best.sigma, kappa: best.kappa)
        let mean = points.reduce(0) { $0 + $1.x } / Double(points.count)
        let total = points.reduce(0) { $0 + pow($1.x - mean, 2) }
        let rSquared = total > 0 ? 1 - best.error / total : 0
        var poor: String?
        if points.count < minimumPoints {
            poor = "\(points.count) points cannot pin down three parameters (at least \(minimumPoints) needed)"
        } else if rSquared < minimumRSquared {
            poor = String(format: "R² %.2f: the points do not follow the law (below %.2f)", rSquared, minimumRSquared)
        }
        return USLFit(model: model, rSquared: rSquared, points: points.count, poorFit: poor)
    }
}
