import MPI
import Model
import TesseraCore

/// A reference slide's tiles sent from rank 0 to every rank: rank 0 alone reads the slide (one
/// reader on the shared filesystem instead of one per rank), the others receive its tiles.
extension StainReferenceTiles {
    /// The tiles `cut` gives on rank 0, on every rank (a collective call). An error on rank 0 is
    /// thrown there; the trainer then aborts the job while the other ranks wait in the broadcast.
    static func broadcast(_ world: MPIWorld, cut: () throws -> StainReferenceTiles) throws -> StainReferenceTiles {
        let bytes = world.broadcast(bytes: world.isRoot ? try cut().encoded() : [])
        return StainReferenceTiles(encoded: bytes)
    }

    /// name, tile count, then per tile: kind (0 JPEG, 1 raw RGB), width, height, byte count, bytes
    /// (integers as 8 little-endian bytes).
    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func put(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { out.append(contentsOf: $0) } }
        func put(_ bytes: [UInt8]) { put(bytes.count); out.append(contentsOf: bytes) }
        put(Array(name.utf8))
        put(payloads.count)
        for payload in payloads {
            switch payload {
            case let .jpeg(bytes): put(0); put(0); put(0); put(bytes)
            case let .raw(image): put(1); put(image.width); put(image.height); put(image.pixels)
            }
        }
        return out
    }

    /// The tiles `encoded()` wrote (rank 0's own bytes: a mismatch is a bug, not bad input).
    init(encoded bytes: [UInt8]) {
        var at = 0
        func int() -> Int {
            precondition(at + 8 <= bytes.count, "stain reference tiles: truncated broadcast")
            defer { at += 8 }
            return Int(Int64(littleEndian: bytes[at..<(at + 8)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }))
        }
        func array() -> [UInt8] {
            let n = int()
            precondition(n >= 0 && at + n <= bytes.count, "stain reference tiles: truncated broadcast")
            defer { at += n }
            return Array(bytes[at..<(at + n)])
        }
        let name = String(decoding: array(), as: UTF8.self)
        let payloads: [TilePayload] = (0..<int()).map { _ in
            let (kind, width, height, data) = (int(), int(), int(), array())
            return kind == 0 ? .jpeg(data) : .raw(RGBImage(width: width, height: height, pixels: data))
        }
        self.init(payloads: payloads, name: name)
    }
}
