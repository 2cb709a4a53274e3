import Foundation

/// How a JSON file spells its keys. Tessera's files for people and scripts (report.json, the audit
/// JSON, benchmark.json, the task status files and prediction plan) use snake_case; a few internal
/// ones keep their types' own names (`asDeclared`).
public enum JSONKeyStyle: Sendable {
    case asDeclared
    /// snake_case written (`tilesKept` → `tiles_kept`, `assumeMPP` → `assume_mpp`); read in
    /// snake_case and in camelCase alike, so that files written by earlier versions (camelCase:
    /// status files read on resume) still read.
    case snakeCase

    /// Words that are written in capitals in property names (`slideID`, `targetMPP`, `macroAUC`).
    static let acronyms: Set<String> = ["id", "mpp", "auc", "url"]

    public func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        if self == .snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return encoder
    }

    public func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        if self == .snakeCase {
            decoder.keyDecodingStrategy = .custom { path in Key(Self.propertyName(path.last!.stringValue)) }
        }
        return decoder
    }

    /// The property a key names: snake_case words joined in camelCase, acronyms in capitals
    /// (`assume_mpp` → `assumeMPP`, `slide_id` → `slideID`); a key without `_` (camelCase, or one
    /// word) as it is. Foundation's `convertFromSnakeCase` would read `assume_mpp` as `assumeMpp`.
    public static func propertyName(_ key: String) -> String {
        let words = key.split(separator: "_", omittingEmptySubsequences: false)
        guard words.count > 1, words.allSatisfy({ !$0.isEmpty }) else { return key }
        return String(words[0]) + words.dropFirst().map { w in
            acronyms.contains(String(w)) ? w.uppercased() : w.prefix(1).uppercased() + w.dropFirst()
        }.joined()
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
