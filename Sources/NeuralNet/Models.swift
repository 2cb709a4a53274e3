import TesseraCore

/// The named architectures. Every convolution of a model shares one im2col workspace.
///
/// `refnet-s` (exactly; 3×S×S input, S = 128 by default, ≈ 0.48 GFLOP forward per image at 128):
///   conv3×3(3→32, pad 1) BN ReLU, maxpool 2 · conv3×3(32→64) BN ReLU, maxpool 2 ·
///   conv3×3(64→128) BN ReLU, maxpool 2 · conv3×3(128→256) BN ReLU · global average pool ·
///   linear(256→classes). "BN ReLU, maxpool 2" is one fused `BatchNorm2D` layer (same function,
///   fewer passes over memory). Without BatchNorm the convolutions have biases and ReLU and max
///   pool are layers of their own.
///
/// `resnet-s` (≈ 1.2 GFLOP forward per image at 128): stem conv3×3(3→32, pad 1) BN ReLU, maxpool 2;
///   four stages of two basic blocks, widths 32/64/128/256, the first block of stages 2–4 at stride 2
///   with a 1×1 projection shortcut; global average pool; linear(256→classes).
public enum Models {
    public static let names = ["refnet-s", "resnet-s"]

    public static func layers(for c: NetworkConfiguration, seed: UInt64) throws -> [Layer] {
        guard c.classes >= 2 else {
            throw NeuralNetError.invalidConfiguration(model: c.model, message: "\(c.classes) classes", hint: "a classifier needs at least 2 classes")
        }
        guard c.dropout >= 0 && c.dropout < 1 else {
            throw NeuralNetError.invalidConfiguration(model: c.model, message: "dropout \(c.dropout)", hint: "use a probability in [0, 1)")
        }
        let dropoutSeed = mixHash(seed, 0xD0_0D)
        switch c.model {
        case "refnet-s":
            try check(c, minimumSize: 8)
            return refnet(widths: [32, 64, 128, 256], inputChannels: c.inputChannels, classes: c.classes, batchNorm: c.batchNorm,
                          dropout: c.dropout, dropoutSeed: dropoutSeed)
        case "resnet-s":
            try check(c, minimumSize: 16)
            return resnet(widths: [32, 64, 128, 256], blocksPerStage: 2, inputChannels: c.inputChannels, classes: c.classes,
                          batchNorm: c.batchNorm, dropout: c.dropout, dropoutSeed: dropoutSeed)
        default:
            throw NeuralNetError.unknownModel(name: c.model, known: names)
        }
    }

    private static func check(_ c: NetworkConfiguration, minimumSize: Int) throws {
        guard c.inputSize >= minimumSize else {
            throw NeuralNetError.invalidConfiguration(model: c.model, message: "input size \(c.inputSize) is too small",
                                                      hint: "\(c.model) downsamples its input 8×; use an input size of at least \(minimumSize)")
        }
        guard c.inputChannels > 0 else {
            throw NeuralNetError.invalidConfiguration(model: c.model, message: "\(c.inputChannels) input channels", hint: "images have at least one channel")
        }
    }

    /// The refnet family: one conv3×3 (+BN) + ReLU per width, a 2×2 max pool after each but the last,
    /// global average pool, linear. `refnet-s` is widths [32, 64, 128, 256].
    public static func refnet(widths: [Int], inputChannels: Int = 3, classes: Int, batchNorm: Bool = true, dropout: Float = 0,
                              dropoutSeed: UInt64 = 0) -> [Layer] {
        precondition(!widths.isEmpty, "refnet needs at least one width")
        let workspace = FloatBuffer()
        var layers: [Layer] = []
        var channels = inputChannels
        for (i, width) in widths.enumerated() {
            let k = i + 1
            layers.append(Conv2D(name: "conv\(k)", inChannels: channels, outChannels: width, kernel: 3, padding: 1, bias: !batchNorm,
                                 workspace: workspace))
            let pooled = i < widths.count - 1
            if batchNorm {
                layers.append(BatchNorm2D(name: "bn\(k)", channels: width, fusedReLU: true, fusedMaxPool: pooled))
            } else {
                layers.append(ReLU(name: "relu\(k)"))
                if pooled { layers.append(MaxPool2D(name: "pool\(k)", kernel: 2)) }
            }
            channels = width
        }
        return layers + head(channels: channels, classes: classes, dropout: dropout, dropoutSeed: dropoutSeed)
    }

    /// The resnet family: stem conv3×3 (+BN) ReLU, maxpool 2; one stage per width of
    /// `blocksPerStage` basic blocks (stride 2 from the second stage on); head.
    public static func resnet(widths: [Int], blocksPerStage: Int, inputChannels: Int = 3, classes: Int, batchNorm: Bool = true,
                              dropout: Float = 0, dropoutSeed: UInt64 = 0) -> [Layer] {
        precondition(!widths.isEmpty && blocksPerStage > 0, "resnet needs at least one stage of one block")
        let workspace = FloatBuffer()
        var layers: [Layer] = [
            Conv2D(name: "stem", inChannels: inputChannels, outChannels: widths[0], kernel: 3, padding: 1, bias: !batchNorm,
                   workspace: workspace),
        ]
        if batchNorm {
            layers.append(BatchNorm2D(name: "stemBN", channels: widths[0], fusedReLU: true, fusedMaxPool: true))
        } else {
            layers += [ReLU(name: "stemReLU"), MaxPool2D(name: "stemPool", kernel: 2)]
        }
        var channels = widths[0]
        for (s, width) in widths.enumerated() {
            for b in 0..<blocksPerStage {
                let stride = (s > 0 && b == 0) ? 2 : 1
                layers.append(BasicBlock(name: "stage\(s + 1).block\(b + 1)", inChannels: channels, outChannels: width, stride: stride,
                                         batchNorm: batchNorm, workspace: workspace))
                channels = width
            }
        }
        return layers + head(channels: channels, classes: classes, dropout: dropout, dropoutSeed: dropoutSeed)
    }

    private static func head(channels: Int, classes: Int, dropout: Float, dropoutSeed: UInt64) -> [Layer] {
        var layers: [Layer] = [GlobalAveragePool(name: "avgpool")]
        if dropout > 0 { layers.append(Dropout(name: "dropout", probability: dropout, seed: dropoutSeed)) }
        layers.append(Linear(name: "classifier", inFeatures: channels, outFeatures: classes))
        return layers
    }
}

extension Network {
    public static var modelNames: [String] { Models.names }
}
