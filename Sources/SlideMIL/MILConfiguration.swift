import Foundation

/// Everything that decides an attention-MIL run (kept in its checkpoints and model file; a resume
/// with other values is refused).
public struct MILConfiguration: Codable, Equatable, Sendable {
    /// Class names, in logit order (sorted names of the training slides' labels).
    public var classes: [String] = []
    /// D, the embedding width of the feature store.
    public var features = 0
    /// Width of h = ReLU(W₁x) (256 as in CLAM's small model).
    public var hidden = 256
    /// Width of the gated attention's V and U.
    public var attentionWidth = 128
    public var dropout: Float = 0.25
    public var epochs = 20
    /// Bags per optimiser step over all ranks (a multiple of the number of ranks).
    public var bagsPerStep = 8
    /// At most this many tiles of a slide per epoch (a random subset, redrawn each epoch); 0: all.
    public var bagCap = 2048
    public var learningRate: Float = 2e-4
    public var weightDecay: Float = 1e-4
    public var seed: UInt64 = 1
    /// Ranks of the run that wrote it (equal steps on every rank need bagsPerStep % ranks == 0).
    public var ranks = 1

    public init() {}
}

/// Loss weights that balance the classes: N / (C · N_c) for a class of N_c of the N training bags,
/// so every class weighs the same in the mean loss however rare it is (absent classes weigh 0).
public func balancedClassWeights(labels: [Int], classes: Int) -> [Float] {
    var counts = [Int](repeating: 0, count: classes)
    for l in labels { counts[l] += 1 }
    let present = counts.filter { $0 > 0 }.count
    return counts.map { $0 == 0 ? 0 : Float(Double(labels.count) / Double(present * $0)) }
}
