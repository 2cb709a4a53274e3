import Foundation

/// Damage done to files on disk, as a failing disk or a careless copy would: for integrity tests.
public enum FileDamage {
    /// Flips every bit of the byte `offsetInside` bytes into the first place where `needle` occurs
    /// in the file (e.g. a tile's JPEG bytes, stored verbatim in an HDF5 chunk). Returns the byte's
    /// offset in the file; nil when `needle` is not in the file.
    @discardableResult
    public static func flipByte(in url: URL, inside needle: [UInt8], offsetInside: Int) throws -> Int? {
        precondition(offsetInside >= 0 && offsetInside < needle.count)
        var data = try Data(contentsOf: url)
        guard let range = data.range(of: Data(needle)) else { return nil }
        let at = range.lowerBound + offsetInside
        data[at] ^= 0xFF
        try data.write(to: url)
        return at
    }

    /// Flips one bit of the byte at `offset`.
    public static func flipBit(in url: URL, byte offset: Int, bit: Int) throws {
        var data = try Data(contentsOf: url)
        data[offset] ^= UInt8(1 << bit)
        try data.write(to: url)
    }

    /// Copies a folder to `destination` (replaced if present).
    public static func copyFolder(_ source: URL, to destination: URL) throws {
        try? FileManager.default.removeItem(at: destination)
        try FileManager.default.copyItem(at: source, to: destination)
    }
}
