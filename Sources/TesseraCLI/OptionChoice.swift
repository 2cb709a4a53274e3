import ArgumentParser

/// An option whose value is one of a fixed list of names (`--encoding jpeg`, `--optimizer adam`).
/// Parsed with `parse`, so a wrong name is a usage error in Tessera's words: "--encoding must be
/// jpeg or raw".
public protocol OptionChoice: RawRepresentable<String>, CaseIterable, ExpressibleByArgument, Sendable {
    /// The option it is the value of, for messages.
    static var option: String { get }
}

extension OptionChoice {
    /// The names, as a message lists them: "a, b or c".
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    public static func parse(_ text: String) throws -> Self {
        guard let value = Self(rawValue: text) else { throw ValidationError("\(option) must be \(choices)") }
        return value
    }
}

/// How tiles are stored (`TileEncoding` in TileStore names the same two).
public enum EncodingOption: String, OptionChoice {
    case jpeg, raw
    public static let option = "--encoding"
}

/// Which reader tiles the slides (`SlideReaderChoice` in SlideTiles names the same two).
public enum SlideReaderOption: String, OptionChoice {
    case auto, openslide
    public static let option = "--slide-reader"
}

/// Which pixels are glass (`TissueRule` in Tiling names the same two).
public enum TissueMaskOption: String, OptionChoice {
    case luminance, otsu
    public static let option = "--tissue-mask"
}

/// The optimiser of training (`TrainingConfig.optimizer`).
public enum OptimizerOption: String, OptionChoice {
    case sgd, adam
    public static let option = "--optimizer"
}

/// The network to train (`Models.names` in NeuralNet names the same).
public enum ModelOption: String, OptionChoice {
    case refnetS = "refnet-s"
    case resnetS = "resnet-s"
    public static let option = "--model"
}

/// Stain normalisation of training and prediction (`StainNormalization.Method` in Stain, or none).
public enum StainNormOption: String, OptionChoice {
    case none, reinhard, macenko
    public static let option = "--stain-norm"
}

