import TesseraCore

/// What a slide's stored tiles are, in a short string: the wrapping sum of a 64-bit FNV-1a hash of
/// each tile's stored bytes (JPEG bytes or raw pixels), then the tile count — "9f…c1/412".
///
/// Tiling is deterministic, so the same slide file tiled twice with one store's parameters gives
/// the same digest whatever slide id, patient or split it was listed under: the audit reports
/// equal digests in two splits or two patients as leakage. The sum makes it independent of tile
/// order. A slide that kept no tile has the digest "" (nothing to compare).
public struct SlideDigest: Equatable, Sendable {
    public private(set) var sum: UInt64 = 0
    public private(set) var tiles = 0

    public init() {}

    public mutating func add(_ bytes: [UInt8]) {
        add(hash: Self.hash(bytes))
    }

    /// Adds a tile by its `hash(_:)`, computed where the tile was encoded: the tiler's workers hash
    /// in parallel, so the store's writer thread does not (it was the serial part of tiling).
    public mutating func add(hash: UInt64) {
        sum &+= hash
        tiles += 1
    }

    /// The hash of one tile's stored bytes.
    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { stableHash(buffer: $0) }
    }

    public var text: String {
        guard tiles > 0 else { return "" }
        let hex = String(sum, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "/\(tiles)"
    }
}
