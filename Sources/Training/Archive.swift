import Foundation
import TesseraCore

/// Tessera's binary container for checkpoints and model files:
///
///     magic (8 bytes) | version UInt32 LE | header length UInt64 LE | header (JSON) | float32 LE blobs
///
/// The JSON header describes itself (configuration, provenance) and lists the blobs with their
/// element counts and an FNV-1a checksum of all blob bytes, so a truncated or damaged file is
/// refused with a message rather than loaded as garbage. Written under a temporary name and
/// renamed when complete.
public enum Archive {
    public struct Blob: Codable, Equatable, Sendable {
        public var name: String
        public var count: Int
    }

    struct Envelope<Header: Codable>: Codable {
        var header: Header
        var blobs: [Blob]
        var checksum: String
    }

    public static let version: UInt32 = 1

    public static func write<Header: Codable>(to url: URL, magic: String, header: Header, blobs: [(String, [Float])]) throws {
        precondition(magic.utf8.count == 8)
        var payload = Data()
        for (_, values) in blobs {
            values.withUnsafeBufferPointer { b in
                // Little-endian hosts (x86-64, arm64): the in-memory bytes are the file's bytes.
                payload.append(UnsafeBufferPointer(start: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: UInt8.self), count: b.count * 4))
            }
        }
        let envelope = Envelope(header: header, blobs: blobs.map { Blob(name: $0.0, count: $0.1.count) },
                                checksum: String(stableHash(bytes: payload), radix: 16))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(envelope)
        var data = Data(magic.utf8)
        withUnsafeBytes(of: version.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(payload)
        try AtomicFile.write(data, to: url)
    }

    public static func read<Header: Codable>(_ url: URL, magic: String, header _: Header.Type) throws -> (header: Header, blobs: [String: [Float]]) {
        let what = magic == "TESSMODL" ? "model file" : "checkpoint"
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TesseraError.io(path: url.path, message: "cannot read the \(what) (\(error.localizedDescription))", hint: "check the path")
        }
        func bad(_ message: String) -> TesseraError {
            TesseraError.invalidInput(path: url.path, message: message, hint: "the file is damaged or was cut short; use an earlier \(what) or re-run")
        }
        guard data.count >= 20, String(decoding: data.prefix(8), as: UTF8.self) == magic else {
            throw TesseraError.invalidInput(path: url.path, message: "not a Tessera \(what)", hint: "check the path (a \(what) starts with \(magic))")
        }
        let version = data.subdata(in: 8..<12).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard version == Archive.version else {
            throw TesseraError.invalidInput(path: url.path, message: "\(what) format version \(version); this Tessera reads version \(Archive.version)",
                                            hint: "use the Tessera version that wrote it")
        }
        let length = Int(data.subdata(in: 12..<20).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        guard length <= data.count - 20 else { throw bad("header runs past the end of the file") }
        let envelope: Envelope<Header>
        do { envelope = try JSONDecoder().decode(Envelope<Header>.self, from: data.subdata(in: 20..<(20 + length))) } catch {
            throw bad("unreadable header (\(error))")
        }
        let payload = data.subdata(in: (20 + length)..<data.count)
        let expected = envelope.blobs.reduce(0) { $0 + $1.count * 4 }
        guard payload.count == expected else { throw bad("\(payload.count) bytes of weights, the header lists \(expected)") }
        guard String(stableHash(bytes: payload), radix: 16) == envelope.checksum else { throw bad("checksum mismatch") }
        var blobs: [String: [Float]] = [:]
        var offset = 0
        payload.withUnsafeBytes { raw in
            for b in envelope.blobs {
                blobs[b.name] = (0..<b.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: UInt32.self))) }
                offset += 4 * b.count
            }
        }
        return (envelope.header, blobs)
    }
}
