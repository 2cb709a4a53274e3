import Foundation
import TesseraCore

/// The safetensors file format (Hugging Face), float32 tensors only — what `model.tsm` is, so that
/// Python's `safetensors` or plain numpy can read a Tessera model:
///
///     header length N (UInt64 LE) | header: N bytes of JSON, padded with spaces to a multiple of 8 | tensor bytes
///
/// The header maps each tensor's name to `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`
/// (offsets into the tensor bytes, which the tensors cover exactly, in order) and `__metadata__` to
/// a map of strings. Tessera adds an integrity check the format lacks: the metadata entry
/// `checksum_fnv1a64` is the FNV-1a 64 (16 hex digits) over every other metadata entry (sorted by
/// key, `key=value\n`), every tensor entry (sorted by name, `name:shape:begin:end\n`) and the tensor
/// bytes, so one changed digit of the configuration or one changed weight is refused. Every length
/// is checked against the file's size before it is used.
public enum Safetensors {
    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) holds \(shape.reduce(1, *)) values, given \(values.count)")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    public static let checksumKey = "checksum_fnv1a64"
    /// Python's safetensors refuses headers over 100 MB; so does Tessera, before allocating.
    static let maxHeaderBytes: UInt64 = 100_000_000

    struct Entry: Codable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    public static func encode(tensors: [Tensor], metadata: [String: String]) throws -> Data {
        precondition(metadata[checksumKey] == nil, "the checksum is computed, not given")
        var entries: [String: Entry] = [:]
        var offset = 0
        for t in tensors {
            precondition(entries[t.name] == nil && t.name != "__metadata__", "tensor name \(t.name) used twice")
            entries[t.name] = Entry(dtype: "F32", shape: t.shape, dataOffsets: [offset, offset + 4 * t.values.count])
            offset += 4 * t.values.count
        }
        var body = Data(capacity: offset)
        // Little-endian hosts (x86-64, arm64): the in-memory bytes are the file's bytes.
        for t in tensors { t.values.withUnsafeBytes { body.append(contentsOf: $0) } }
        var allMetadata = metadata
        allMetadata[checksumKey] = hex(checksum(metadata: metadata, entries: entries, body: body))
        var json = try headerJSON(entries: entries, metadata: allMetadata)
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(body)
        return data
    }

    /// The tensors in file order and the metadata (without the checksum entry). `what` names the
    /// file in errors ("model file").
    public static func decode(_ data: Data, path: String, what: String) throws -> (tensors: [Tensor], metadata: [String: String]) {
        func bad(_ message: String) -> TesseraError {
            TesseraError.invalidInput(path: path, message: message, hint: "the file is damaged or was cut short; use another copy or train again")
        }
        guard data.count >= 8 else { throw bad("\(data.count) bytes: too short for a safetensors \(what)") }
        let length: UInt64 = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 8), length <= maxHeaderBytes else {
            throw bad("the header length field says \(length) bytes, but the file has \(data.count - 8) bytes for the header and weights")
        }
        let headerEnd = 8 + Int(length)
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
                throw bad("the header is not a JSON object")
            }
            object = o
        } catch let error as TesseraError { throw error } catch { throw bad("unreadable header (\(error.localizedDescription))") }
        var metadata = (object["__metadata__"] as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
        var entries: [String: Entry] = [:]
        for (name, value) in object where name != "__metadata__" {
            guard let e = value as? [String: Any], let dtype = e["dtype"] as? String, let shape = e["shape"] as? [Int],
                  let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("tensor \(name): not a safetensors entry (dtype, shape, data_offsets)")
            }
            guard dtype == "F32" else { throw bad("tensor \(name) has dtype \(dtype); Tessera models hold F32 only") }
            entries[name] = Entry(dtype: dtype, shape: shape, dataOffsets: offsets)
        }
        let bodyCount = data.count - headerEnd
        // In offset order the tensors must tile the body exactly; each within it and of its shape's size.
        let ordered = entries.sorted { ($0.value.dataOffsets[0], $0.key) < ($1.value.dataOffsets[0], $1.key) }
        var expected = 0
        for (name, e) in ordered {
            let (begin, end) = (e.dataOffsets[0], e.dataOffsets[1])
            guard begin == expected, end >= begin, end <= bodyCount else {
                throw bad("tensor \(name): bytes \(begin)..<\(end), expected to start at \(expected) and end by \(bodyCount) (the file holds \(bodyCount) bytes of weights)")
            }
            var elements = 1
            for d in e.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw bad("tensor \(name): impossible shape \(e.shape)") }
                elements = product
            }
            let bytes = elements.multipliedReportingOverflow(by: 4)
            guard !bytes.overflow, bytes.partialValue == end - begin else {
                throw bad("tensor \(name): shape \(e.shape) needs \(elements) values, its bytes hold \((end - begin) / 4)")
            }
            expected = end
        }
        guard expected == bodyCount else { throw bad("\(bodyCount) bytes of weights, the header lists \(expected)") }
        guard let stored = metadata.removeValue(forKey: checksumKey) else {
            throw bad("no \(checksumKey) in the metadata: not a \(what) written by Tessera")
        }
        let body = data.subdata(in: headerEnd..<data.count)
        guard stored == hex(checksum(metadata: metadata, entries: entries, body: body)) else {
            throw bad("checksum mismatch: the header or the weights changed after the file was written")
        }
        let tensors = body.withUnsafeBytes { raw in
            ordered.map { name, e in
                Tensor(name: name, shape: e.shape, values: (0..<((e.dataOffsets[1] - e.dataOffsets[0]) / 4)).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: e.dataOffsets[0] + 4 * $0, as: UInt32.self)))
                })
            }
        }
        return (tensors, metadata)
    }

    /// Sorted keys and no escaped slashes, so the same model gives the same bytes.
    private static func headerJSON(entries: [String: Entry], metadata: [String: String]) throws -> Data {
        struct Header: Encodable {
            let entries: [String: Entry]
            let metadata: [String: String]
            struct Key: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue _: Int) { nil }
            }

            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(metadata, forKey: Key(stringValue: "__metadata__"))
                for (name, e) in entries { try c.encode(e, forKey: Key(stringValue: name)) }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Header(entries: entries, metadata: metadata))
    }

    private static func checksum(metadata: [String: String], entries: [String: Entry], body: Data) -> UInt64 {
        var text = ""
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { text += "\(k)=\(v)\n" }
        for (name, e) in entries.sorted(by: { $0.key < $1.key }) {
            text += "\(name):\(e.shape.map(String.init).joined(separator: ",")):\(e.dataOffsets[0]):\(e.dataOffsets[1])\n"
        }
        var bytes = Data(text.utf8)
        bytes.append(body)
        return Archive.checksum(bytes)
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
