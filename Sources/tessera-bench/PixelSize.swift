import ArgumentParser

/// A width × height in pixels, written `WxH` on the command line (e.g. `40000x30000`).
struct PixelSize: ExpressibleByArgument, CustomStringConvertible, Equatable, Sendable {
    let width: Int
    let height: Int

    /// Of the order of a real 20× resection slide: 1.2 gigapixels.
    static let defaultGigapixel = PixelSize(width: 40000, height: 30000)

    /// Sides the gigapixel benchmark accepts: at least a few 512² tiles, at most a BigTIFF that still
    /// fits this project's machines.
    static let sideRange = 2048...262_144

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else { return nil }
        self.init(width: w, height: h)
    }

    var description: String { "\(width)x\(height)" }
    var defaultValueDescription: String { description }
    var megapixels: Double { Double(width) * Double(height) / 1e6 }
}
