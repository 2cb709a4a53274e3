import Foundation

/// JSON files written atomically (sorted keys, so the same value gives the same bytes) and read
/// with an error naming the file and the fix: prediction parts, MIL checkpoints and models. Keys
/// as the type declares them unless `keys` says otherwise.
public enum JSONFile {
    public static func write<T: Encodable>(_ value: T, to url: URL, pretty: Bool = true, keys: JSONKeyStyle = .asDeclared) throws {
        try AtomicFile.write(try keys.encoder(pretty: pretty).encode(value), to: url)
    }

    public static func read<T: Decodable>(_ type: T.Type, from url: URL, hint: String, keys: JSONKeyStyle = .asDeclared) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TesseraError.io(path: url.path, message: "cannot read (\(error.localizedDescription))", hint: hint)
        }
        do { return try keys.decoder().decode(type, from: data) } catch {
            throw TesseraError.invalidInput(path: url.path, message: "unreadable (\(error))", hint: hint)
        }
    }
}
