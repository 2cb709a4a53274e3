import ArgumentParser

/// Where the stain normalisation's reference comes from (`StainNormalizationOption.Reference`):
/// `builtin`, `train`, or `slide:PATH` / `slide:PATH@X,Y,W,H` — a reference slide's tissue, or a
/// level-0 pixel region of it (X, Y its top-left corner, W × H its size). The region is the
/// text after the last `@`, so a path may hold an `@` when a region follows it.
public enum StainReferenceOption: Equatable, Sendable, ExpressibleByArgument {
    case builtin
    case train
    case slide(path: String, region: [Int]?)

    public static let option = "--stain-reference"
    static let prefix = "slide:"
    public static let choices = "builtin, train, slide:PATH or slide:PATH@X,Y,W,H"

    public init?(argument: String) { try? self.init(parsing: argument) }

    public init(parsing text: String) throws {
        switch text {
        case "builtin": self = .builtin
        case "train": self = .train
        default:
            guard text.hasPrefix(Self.prefix) else { throw ValidationError("\(Self.option) must be \(Self.choices); got '\(text)'") }
            let value = String(text.dropFirst(Self.prefix.count))
            let example = "e.g. slide:ref.svs or slide:ref.svs@2000,1500,4096,4096"
            var path = value, region: [Int]?
            // Text after the last @ that reads as numbers is a region (and must be a valid one).
            if let at = value.lastIndex(of: "@"), case let tail = value[value.index(after: at)...],
               !tail.isEmpty, tail.allSatisfy({ "0123456789,-+ ".contains($0) }) {
                guard let r = Self.region(String(tail)) else {
                    throw ValidationError("\(Self.option) \(text): the region after @ must be four integers X,Y,W,H (level-0 pixels; X, Y ≥ 0, W, H ≥ 1), \(example)")
                }
                (path, region) = (String(value[..<at]), r)
            }
            guard !path.isEmpty else { throw ValidationError("\(Self.option) \(text): name the reference slide file, \(example)") }
            self = .slide(path: path, region: region)
        }
    }

    public static func parse(_ text: String) throws -> Self { try Self(parsing: text) }

    /// X,Y,W,H as four integers with X, Y ≥ 0 and W, H ≥ 1; nil otherwise.
    static func region(_ text: String) -> [Int]? {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard values.count == 4, text.filter({ $0 == "," }).count == 3, values[0] >= 0, values[1] >= 0, values[2] >= 1, values[3] >= 1 else { return nil }
        return values
    }

    /// As written on the command line and in a job file.
    public var spelled: String {
        switch self {
        case .builtin: "builtin"
        case .train: "train"
        case let .slide(path, region): Self.prefix + path + (region.map { "@" + $0.map(String.init).joined(separator: ",") } ?? "")
        }
    }

    public var defaultValueDescription: String { spelled }
}
