import TesseraCore

extension SlideRenderer {
    /// Pen inks' transmission per channel: blue, green, black.
    static let penInks: [(Double, Double, Double)] = [(0.30, 0.45, 0.85), (0.35, 0.68, 0.45), (0.16, 0.16, 0.19)]
    /// A fold's second layer is this far (µm) from the first.
    static let foldShift = (37.0, 23.0)
    /// Radius (µm) of the out-of-focus kernel, and a bubble's dark rim (level-0 pixels).
    static let blurRadius = 2.5
    static let bubbleRim = 12

    /// `renderRows` for a realistic slide: each pixel's tissue kind and artefact come from the
    /// region raster; artefacts change how tissue is sampled (blur, fold) or filter the light (pen,
    /// dust, bubble rims, pigment).
    func renderRealisticRows(_ samples: FieldSamples, x: Int, y: Int, width: Int, height: Int) -> [UInt8] {
        let raster = raster!
        let mpp = spec.scan.micronsPerPixel
        let glass = palette.table[0]
        let blurCode = RegionKind.blur.code, foldCode = RegionKind.fold.code
        let bubbleCode = RegionKind.bubble.code, dustCode = RegionKind.dust.code
        return renderRows(samples, x: x, y: y, width: width, height: height) { px, py, uy, field, noise in
            let cellIndex = raster.index(x: px, y: py)
            let kind = raster.tissue[cellIndex], artefact = raster.artefact[cellIndex]
            let grain = field(1)
            var alpha = Self.smoothstep((field(0) + 10 * (grain - 0.5)) / Self.edgeWidth)
            var packed: UInt32
            var black = 0.0
            if alpha <= 0 {
                packed = glass
            } else {
                let local = LocalFields(edgeDistance: field(0), grain: grain, architecture: field(2), warpX: field(3),
                                        warpY: field(4), fibreWobble: field(5), fibreBlend: field(7), stainScale: field(6))
                let ux = (Double(px) + 0.5) * mpp
                var d = texture.densities(kind: kind, x: ux, y: uy, fields: local)
                var grainGain = 1.0
                if artefact == blurCode {
                    // Out of focus: the mean of a small disc of samples, and no sensor-scale grain.
                    let r = Self.blurRadius
                    for (dx, dy) in [(r, 0.0), (-r, 0.0), (0.0, r), (0.0, -r), (0.7 * r, 0.7 * r), (-0.7 * r, -0.7 * r)] {
                        let s = texture.densities(kind: kind, x: ux + dx, y: uy + dy, fields: local)
                        d.h += s.h; d.e += s.e; d.black += s.black
                    }
                    d = (d.h / 7, d.e / 7, d.black / 7)
                    grainGain = 0.3
                } else if artefact == foldCode {
                    // Folded over: a second layer of the same tissue, shifted.
                    let s = texture.densities(kind: kind, x: ux + Self.foldShift.0, y: uy + Self.foldShift.1, fields: local)
                    d = (1.05 * (d.h + 0.85 * s.h), 1.05 * (d.e + 0.85 * s.e), max(d.black, s.black))
                    alpha = 1
                }
                black = d.black
                let scale = alpha * local.stainScale
                let nh: Double = Self.signedUnit(noise) * grainGain, ne: Double = Self.signedUnit(noise >> 8) * grainGain
                let h: Double = d.h * scale * (1 + 0.12 * nh) + 0.01 * nh
                let e: Double = d.e * scale * (1 + 0.08 * ne) + 0.01 * ne
                packed = palette.packedColor(h: h, e: e)
            }
            var r = Double((packed >> 16) & 0xFF), gr = Double((packed >> 8) & 0xFF), b = Double(packed & 0xFF)
            if black > 0 { let k = 1 - black; r *= k; gr *= k; b *= k }
            if artefact >= RegionRaster.penBase {
                // Ink of uneven thickness.
                let ink = Self.penInks[Int(artefact - RegionRaster.penBase)]
                let s = 0.85 + 0.15 * Self.signedUnit(noise >> 48)
                r *= 1 - s * (1 - ink.0); gr *= 1 - s * (1 - ink.1); b *= 1 - s * (1 - ink.2)
            } else if artefact == dustCode {
                r *= 0.35; gr *= 0.33; b *= 0.32
            } else if artefact == bubbleCode {
                // A dark refracting rim where the bubble meets the mountant, brighter inside.
                let m = Self.bubbleRim
                let rim = raster.artefactKind(x: px - m, y: py) != bubbleCode || raster.artefactKind(x: px + m, y: py) != bubbleCode
                    || raster.artefactKind(x: px, y: py - m) != bubbleCode || raster.artefactKind(x: px, y: py + m) != bubbleCode
                if rim { r *= 0.45; gr *= 0.45; b *= 0.5 } else { r = r + (255 - r) * 0.35; gr = gr + (255 - gr) * 0.35; b = b + (255 - b) * 0.35 }
            }
            return (r, gr, b)
        }
    }
}
