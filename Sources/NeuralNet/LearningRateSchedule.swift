import Foundation

/// Learning rate per optimiser step: linear warm-up, then cosine or step decay.
///
/// Steps count from 0. During warm-up (steps 0 ..< warmupSteps) the rate rises linearly to the base:
/// rate(t) = base·(t + 1)/warmupSteps, so the first step is not wasted at 0 and step warmupSteps − 1
/// reaches the base. After it:
/// - `.constant`: base.
/// - `.cosine(finalFactor: f)`: base·(f + (1 − f)·½(1 + cos(π·p))), p = (t − warmup)/(total − warmup)
///   clamped to [0, 1]: the base at the end of warm-up, base·f at `totalSteps` and after.
/// - `.step(milestones:factor:)`: base·factor^k, k = the number of milestones ≤ t.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: Codable, Equatable, Sendable {
        case constant
        case cosine(finalFactor: Double)
        case step(milestones: [Int], factor: Double)
    }

    public var baseRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(baseRate: Double, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .cosine(finalFactor: 0)) {
        precondition(baseRate >= 0 && warmupSteps >= 0 && totalSteps >= warmupSteps,
                     "schedule: base \(baseRate), warm-up \(warmupSteps), total \(totalSteps)")
        self.baseRate = baseRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
    }

    public func rate(atStep t: Int) -> Float {
        precondition(t >= 0, "schedule: negative step \(t)")
        if t < warmupSteps { return Float(baseRate * Double(t + 1) / Double(warmupSteps)) }
        switch decay {
        case .constant:
            return Float(baseRate)
        case let .cosine(f):
            let span = max(totalSteps - warmupSteps, 1)
            let p = min(max(Double(t - warmupSteps) / Double(span), 0), 1)
            return Float(baseRate * (f + (1 - f) * 0.5 * (1 + cos(Double.pi * p))))
        case let .step(milestones, factor):
            return Float(baseRate * pow(factor, Double(milestones.filter { $0 <= t }.count)))
        }
    }

    /// The linear scaling rule (Goyal et al. 2017): a base rate tuned at `referenceBatch` images per
    /// step, scaled to the global batch (per-rank batch × ranks): base·globalBatch/referenceBatch.
    /// Use it with a few epochs of warm-up.
    public static func linearlyScaled(baseRate: Double, globalBatch: Int, referenceBatch: Int = 256) -> Double {
        precondition(globalBatch > 0 && referenceBatch > 0, "linear scaling: global batch \(globalBatch), reference \(referenceBatch)")
        return baseRate * Double(globalBatch) / Double(referenceBatch)
    }
}
