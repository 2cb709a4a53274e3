import Foundation
import JPEG
import Stain
import TesseraCore
import Tiling

/// Per-channel normalisation of the network's input, computed from the training tiles and saved
/// with the model so that prediction normalises exactly as training did. Values on the 0–255 scale.
/// With stain normalisation, its method and reference too (nil: none; absent in older models), and
/// the channel statistics are those of the stain-normalised tiles.
public struct Normalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]
    public var stain: StainNormalization?
    public init(mean: [Float], std: [Float], stain: StainNormalization? = nil) {
        self.mean = mean
        self.std = std
        self.stain = stain
    }
}

/// Augmentation settings.
public struct Augmentation: Codable, Equatable, Sendable {
    /// Random flips and 90° rotations (the 8 symmetries of the square): tissue has no orientation.
    public var dihedral = true
    /// Colour jitter: brightness (± fraction of 255), contrast (× 1 ± c), hue (rotation ± h·180°).
    public var brightness: Float = 0
    public var contrast: Float = 0
    public var hue: Float = 0
    /// HED stain jitter σ (0 = off): each stain's concentration × U[1−σ, 1+σ] + U[−σ, σ] (OD units).
    public var hed: Float = 0
    public init() {}
    public static let none: Augmentation = { var a = Augmentation(); a.dihedral = false; return a }()

    enum CodingKeys: String, CodingKey { case dihedral, brightness, contrast, hue, hed }

    /// Checkpoints written before HED augmentation have no `hed`: it was off.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dihedral = try c.decode(Bool.self, forKey: .dihedral)
        brightness = try c.decode(Float.self, forKey: .brightness)
        contrast = try c.decode(Float.self, forKey: .contrast)
        hue = try c.decode(Float.self, forKey: .hue)
        hed = try c.decodeIfPresent(Float.self, forKey: .hed) ?? 0
    }
}

/// An encoded tile as read from the store.
public enum TilePayload: Sendable {
    case jpeg([UInt8])
    case raw(RGBImage)
}

/// Turns stored tiles into network input: decode (libjpeg-turbo, at reduced scale when the network
/// input is a half, quarter or eighth of the tile — done in the IDCT, far cheaper than decoding
/// fully), area-resample to exactly S×S, normalise the stain (at the network's input size: 4× fewer
/// pixels than a 256² tile for a 128² input), augment, normalise, and lay out as planar float (NCHW).
///
/// Augmentation is keyed by (seed, epoch, global tile index), not by rank or position in a batch:
/// a tile looks the same whichever rank reads it, so runs with different rank counts and resumed
/// runs see identical inputs. One pipeline per thread (it owns a JPEG decoder).
public final class InputPipeline {
    public let tileSize: Int
    public let inputSize: Int
    public let normalization: Normalization
    public let augmentation: Augmentation
    public let seed: UInt64
    private let decoder: JPEGDecoder
    private let scale: Int
    private let resampler: AreaResampler?
    private let rawResampler: AreaResampler?
    private var stainNormalizer: StainNormalizer?

    public init(tileSize: Int, inputSize: Int, normalization: Normalization, augmentation: Augmentation, seed: UInt64) throws {
        precondition(inputSize >= 1 && inputSize <= tileSize, "input size \(inputSize) must be 1…\(tileSize) (the tile size)")
        self.tileSize = tileSize
        self.inputSize = inputSize
        self.normalization = normalization
        self.augmentation = augmentation
        self.seed = seed
        decoder = try JPEGDecoder()
        scale = [8, 4, 2, 1].first { tileSize % $0 == 0 && tileSize / $0 >= inputSize } ?? 1
        let decoded = tileSize / scale
        resampler = decoded == inputSize ? nil : AreaResampler(sourceSize: Double(decoded), outputSize: inputSize)
        rawResampler = tileSize == inputSize ? nil : AreaResampler(sourceSize: Double(tileSize), outputSize: inputSize)
        stainNormalizer = normalization.stain.map(StainNormalizer.init)
    }

    /// Tiles stain-normalised since the last call, and those left as they were for too little
    /// tissue; then zero. (0, 0) without stain normalisation.
    public func takeStainCounts() -> (tiles: Int, fallbacks: Int) {
        stainNormalizer?.takeCounts() ?? (0, 0)
    }

    /// The S×S RGB image of a tile, stain-normalised, before augmentation and channel normalisation.
    public func image(_ payload: TilePayload, source: String) throws -> RGBImage {
        var image = try resampledImage(payload, source: source)
        stainNormalizer?.normalize(&image)
        return image
    }

    private func resampledImage(_ payload: TilePayload, source: String) throws -> RGBImage {
        var image: RGBImage
        switch payload {
        case let .jpeg(bytes):
            do { image = try decoder.decode(bytes, scale: scale) } catch var e as JPEGError {
                e.source = source
                throw e
            }
        case let .raw(rgb):
            return rawResampler?.resample(rgb) ?? rgb
        }
        guard image.width == tileSize / scale && image.height == tileSize / scale else {
            throw TesseraError.invalidInput(path: source, message: "tile is \(image.width)×\(image.height) after 1/\(scale) decoding, expected \(tileSize / scale)²",
                                            hint: "the store's tile_size attribute does not match its tiles; re-tile")
        }
        if let resampler { image = resampler.resample(image) }
        return image
    }

    /// Writes one tile, augmented and normalised, as 3 planes of S×S floats at `out`.
    public func prepare(_ payload: TilePayload, globalIndex: Int, epoch: Int, augment: Bool, source: String,
                        into out: UnsafeMutablePointer<Float>) throws {
        var image = try image(payload, source: source)
        let s = inputSize
        var rng = SeededGenerator(seed: seed, stream: (UInt64(epoch) << 40) ^ UInt64(globalIndex))
        let symmetry = augment && augmentation.dihedral ? Int(rng.next() % 8) : 0
        // Colour jitter as one affine map per channel pair: y = M·x + b (on 0–255 values).
        var m: (Float, Float, Float, Float, Float, Float, Float, Float, Float) = (1, 0, 0, 0, 1, 0, 0, 0, 1)
        var bias: Float = 0
        var contrast: Float = 1
        if augment {
            if augmentation.brightness > 0 { bias = (Float(rng.nextUnit()) * 2 - 1) * augmentation.brightness * 255 }
            if augmentation.contrast > 0 { contrast = 1 + (Float(rng.nextUnit()) * 2 - 1) * augmentation.contrast }
            if augmentation.hue > 0 {
                // Rotation about the grey axis (1,1,1)/√3 by θ (Rodrigues' formula).
                let theta = (Float(rng.nextUnit()) * 2 - 1) * augmentation.hue * .pi
                let c = cos(theta), si = sin(theta), k = (1 - c) / 3, r = si / Float(3).squareRoot()
                m = (c + k, k - r, k + r, k + r, c + k, k - r, k - r, k + r, c + k)
            }
            // Drawn after the others, so runs without it keep their augmentation stream bit for bit.
            if augmentation.hed > 0 {
                let (alpha, beta) = HEDAugmentation.draw(sigma: augmentation.hed, rng: &rng)
                HEDAugmentation.apply(&image, alpha: alpha, beta: beta)
            }
        }
        let mean = normalization.mean, inv = normalization.std.map { 1 / $0 }
        let plane = s * s
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<s {
                for x in 0..<s {
                    // Destination (x, y) reads source (sx, sy) under the chosen symmetry.
                    let (sx, sy): (Int, Int)
                    switch symmetry {
                    case 0: (sx, sy) = (x, y)
                    case 1: (sx, sy) = (s - 1 - x, y)
                    case 2: (sx, sy) = (x, s - 1 - y)
                    case 3: (sx, sy) = (s - 1 - x, s - 1 - y)
                    case 4: (sx, sy) = (y, x)
                    case 5: (sx, sy) = (s - 1 - y, x)
                    case 6: (sx, sy) = (y, s - 1 - x)
                    default: (sx, sy) = (s - 1 - y, s - 1 - x)
                    }
                    let i = (sy * s + sx) * 3
                    var r = Float(px[i]), g = Float(px[i + 1]), b = Float(px[i + 2])
                    if augment && (augmentation.hue > 0 || augmentation.contrast > 0 || augmentation.brightness > 0) {
                        let r2 = m.0 * r + m.1 * g + m.2 * b, g2 = m.3 * r + m.4 * g + m.5 * b, b2 = m.6 * r + m.7 * g + m.8 * b
                        r = min(255, max(0, (r2 - 128) * contrast + 128 + bias))
                        g = min(255, max(0, (g2 - 128) * contrast + 128 + bias))
                        b = min(255, max(0, (b2 - 128) * contrast + 128 + bias))
                    }
                    let o = y * s + x
                    out[o] = (r - mean[0]) * inv[0]
                    out[plane + o] = (g - mean[1]) * inv[1]
                    out[2 * plane + o] = (b - mean[2]) * inv[2]
                }
            }
        }
    }

    /// Per-channel sum and sum of squares of the un-augmented S×S images (for `Normalization`).
    public func channelMoments(_ payload: TilePayload, source: String) throws -> [Double] {
        let image = try image(payload, source: source)
        var m = [Double](repeating: 0, count: 6)
        image.pixels.withUnsafeBufferPointer { px in
            var i = 0
            while i < px.count {
                for c in 0..<3 { let v = Double(px[i + c]); m[c] += v; m[3 + c] += v * v }
                i += 3
            }
        }
        return m
    }
}
