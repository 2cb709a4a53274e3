import Foundation

/// JSON files written atomically (sorted keys, so the same value gives the same bytes) and read
/// with an error naming the file and the fix: prediction parts, MIL checkpoints and models.
public enum JSONFile {
    public static func write<T: Encodable>(_ value: T, to url: URL, pretty: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(value), to: url)
    }

    public static func read<T: Decodable>(_ type: T.Type, from url: URL, hint: String) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TesseraError.io(path: url.path, message: "cannot read (\(error.localizedDescription))", hint: hint)
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw TesseraError.invalidInput(path: url.path, message: "unreadable (\(error))", hint: hint)
        }
    }
}
