import Foundation
import TesseraCore

/// Tessera's binary container for checkpoints (format version 2; model files of earlier Tessera
/// versions too, still read — new model files are safetensors, `Safetensors`):
///
///     magic (8 bytes) | version UInt32 LE | header length UInt64 LE | header (JSON) | float32 LE blobs | checksum UInt64 LE
///
/// The JSON header describes itself (configuration, provenance, normalisation) and lists the blobs
/// with their element counts. The trailing checksum is a 64-bit FNV-1a over every byte before it —
/// the header and the weights together — so one changed digit in the header is refused like one
/// changed weight. Every length is checked against the file's size before it is used: a damaged
/// file is refused with a message naming it, never trusted or crashed on. Written under a
/// temporary name and renamed when complete. Version 1 files (whose checksum covered only the
/// weights) are refused with a hint to retrain.
public enum Archive {
    public struct Blob: Codable, Equatable, Sendable {
        public var name: String
        public var count: Int
    }

    struct Envelope<Header: Codable>: Codable {
        var header: Header
        var blobs: [Blob]
    }

    public static let version: UInt32 = 2
    /// magic + version + header length.
    static let prefixBytes = 20
    static let checksumBytes = 8

    public static func write<Header: Codable>(to url: URL, magic: String, header: Header, blobs: [(String, [Float])]) throws {
        precondition(magic.utf8.count == 8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(Envelope(header: header, blobs: blobs.map { Blob(name: $0.0, count: $0.1.count) }))
        var data = Data(magic.utf8)
        withUnsafeBytes(of: version.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, values) in blobs {
            // Little-endian hosts (x86-64, arm64): the in-memory bytes are the file's bytes.
            values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        withUnsafeBytes(of: checksum(data).littleEndian) { data.append(contentsOf: $0) }
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
        guard data.count >= prefixBytes, String(decoding: data.prefix(8), as: UTF8.self) == magic else {
            throw TesseraError.invalidInput(path: url.path, message: "not a Tessera \(what)", hint: "check the path (a \(what) starts with \(magic))")
        }
        let version: UInt32 = littleEndian(data, at: 8)
        if version == 1 {
            throw TesseraError.invalidInput(path: url.path, message: "\(what) format version 1, written by an older Tessera whose checksum did not cover the header",
                                            hint: magic == "TESSMODL" ? "train the model again with this Tessera" : "start the run afresh with this Tessera (without --resume)")
        }
        guard version == Archive.version else {
            throw TesseraError.invalidInput(path: url.path, message: "\(what) format version \(version); this Tessera reads version \(Archive.version)",
                                            hint: "use the Tessera version that wrote it")
        }
        // Lengths come from the file: compare them with its size before any arithmetic that could overflow.
        let headerLength: UInt64 = littleEndian(data, at: 12)
        let room = data.count - prefixBytes - checksumBytes
        guard room >= 0, headerLength <= UInt64(room) else {
            throw bad("the header length field says \(headerLength) bytes, but the file has \(max(room, 0)) bytes for the header and weights")
        }
        let stored: UInt64 = littleEndian(data, at: data.count - checksumBytes)
        guard checksum(data.prefix(data.count - checksumBytes)) == stored else {
            throw bad("checksum mismatch: the header or the weights changed after the file was written")
        }
        let length = Int(headerLength)
        let envelope: Envelope<Header>
        do {
            envelope = try JSONDecoder().decode(Envelope<Header>.self, from: data.subdata(in: prefixBytes..<(prefixBytes + length)))
        } catch {
            throw bad("unreadable header (\(error))")
        }
        let payloadStart = prefixBytes + length, payloadCount = room - length
        var expected = 0
        for b in envelope.blobs {
            let (bytes, overflow) = b.count.multipliedReportingOverflow(by: 4)
            guard b.count >= 0, !overflow, bytes <= payloadCount - expected else {
                throw bad("the header lists more weights (blob \(b.name): \(b.count) values) than the file holds (\(payloadCount) bytes)")
            }
            expected += bytes
        }
        guard payloadCount == expected else { throw bad("\(payloadCount) bytes of weights, the header lists \(expected)") }
        var blobs: [String: [Float]] = [:]
        var offset = payloadStart
        data.withUnsafeBytes { raw in
            for b in envelope.blobs {
                blobs[b.name] = (0..<b.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: UInt32.self))) }
                offset += 4 * b.count
            }
        }
        return (envelope.header, blobs)
    }

    /// FNV-1a 64 over `bytes`.
    static func checksum(_ bytes: Data) -> UInt64 {
        bytes.withUnsafeBytes { stableHash(buffer: $0) }
    }

    private static func littleEndian<T: FixedWidthInteger>(_ data: Data, at offset: Int) -> T {
        data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
