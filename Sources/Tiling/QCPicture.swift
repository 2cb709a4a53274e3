import Pictures
import TesseraCore

/// The tiler's QC picture of a slide (`STORE/qc/<slide_id>.jpg`): the thumbnail with each kept tile
/// outlined and each dropped tile tinted by its reason, and a legend with each reason's count —
/// what a pathologist checks first on a new cohort (CLAM's stitches, slideflow's extraction report).
/// Positions the tissue mask skipped are left as they are (glass).
public enum QCPicture {
    /// Outline of kept tiles and tint of each drop reason.
    public static let keptColour: (UInt8, UInt8, UInt8) = (0, 170, 60)
    public static func colour(_ reason: TileDropReason) -> (UInt8, UInt8, UInt8) {
        switch reason {
        case .mask: return (255, 255, 255)
        case .background: return (120, 120, 120)
        case .pen: return (230, 0, 200)
        case .blur: return (255, 150, 0)
        case .fold: return (200, 0, 0)
        case .bubble: return (0, 160, 255)
        }
    }

    /// Longest side of the picture without its legend.
    public static let maxSide = 2048
    static let legendHeight = 22

    /// - Parameters:
    ///   - thumbnail: the slide at a low resolution; `downsample`: level-0 pixels per its pixel.
    ///   - tileSpan: a tile's level-0 side.
    ///   - dropped: counts by reason for the legend (the mask's included).
    public static func render(thumbnail: RGBImage, downsample: Double, tileSpan: Int, decisions: [(x: Int, y: Int, dropped: TileDropReason?)],
                              dropped: [TileDropReason: Int]) -> RGBImage {
        // Enlarge a small thumbnail so a tile spans at least 12 pixels, within maxSide.
        let longest = Double(max(thumbnail.width, thumbnail.height, 1))
        let wanted = max(1, 12 / max(Double(tileSpan) / downsample, 1e-9))
        let scale = min(wanted, Double(maxSide) / longest)
        let w = max(1, Int((Double(thumbnail.width) * scale).rounded())), h = max(1, Int((Double(thumbnail.height) * scale).rounded()))
        let legendWidth = 640
        var image = RGBImage(width: max(w, legendWidth), height: h + legendHeight)
        for y in 0..<h {
            let sy = min(thumbnail.height - 1, Int(Double(y) / scale))
            for x in 0..<w {
                let sx = min(thumbnail.width - 1, Int(Double(x) / scale))
                let s = (sy * thumbnail.width + sx) * 3, d = (y * image.width + x) * 3
                image.pixels[d] = thumbnail.pixels[s]
                image.pixels[d + 1] = thumbnail.pixels[s + 1]
                image.pixels[d + 2] = thumbnail.pixels[s + 2]
            }
        }
        let perLevel0 = scale / downsample
        func box(_ d: (x: Int, y: Int, dropped: TileDropReason?)) -> (Int, Int, Int, Int) {
            let x0 = Int((Double(d.x) * perLevel0).rounded(.down)), y0 = Int((Double(d.y) * perLevel0).rounded(.down))
            let x1 = Int((Double(d.x + tileSpan) * perLevel0).rounded(.up)) - 1, y1 = Int((Double(d.y + tileSpan) * perLevel0).rounded(.up)) - 1
            return (max(0, x0), max(0, y0), min(w - 1, x1), min(h - 1, y1))
        }
        for d in decisions {
            guard let reason = d.dropped else { continue }
            let (x0, y0, x1, y1) = box(d)
            guard x0 <= x1 && y0 <= y1 else { continue }
            let c = colour(reason)
            for y in y0...y1 {
                for x in x0...x1 {
                    let i = (y * image.width + x) * 3
                    image.pixels[i] = UInt8((Int(image.pixels[i]) + Int(c.0)) / 2)
                    image.pixels[i + 1] = UInt8((Int(image.pixels[i + 1]) + Int(c.1)) / 2)
                    image.pixels[i + 2] = UInt8((Int(image.pixels[i + 2]) + Int(c.2)) / 2)
                }
            }
        }
        for d in decisions where d.dropped == nil {
            let (x0, y0, x1, y1) = box(d)
            guard x0 <= x1 && y0 <= y1 else { continue }
            image.frame(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, colour: keptColour)
        }
        drawLegend(&image, top: h, kept: decisions.filter { $0.dropped == nil }.count, dropped: dropped)
        return image
    }

    /// A swatch and "NAME COUNT" for kept and each drop reason, on a white band.
    private static func drawLegend(_ image: inout RGBImage, top: Int, kept: Int, dropped: [TileDropReason: Int]) {
        var x = 4
        let entries: [(String, (UInt8, UInt8, UInt8), Bool)] = [("kept \(kept)", keptColour, true)]
            + [TileDropReason.background, .pen, .blur, .fold, .bubble].map { ("\($0.rawValue) \(dropped[$0] ?? 0)", colour($0), false) }
        for (text, c, outline) in entries {
            let y0 = top + 6, y1 = top + 15
            if outline {
                image.frame(x: x, y: y0, width: 10, height: y1 - y0 + 1, colour: c)
            } else {
                image.fill(x: x, y: y0, width: 10, height: y1 - y0 + 1, colour: c)
            }
            image.draw(text: text, x: x + 14, y: top + 4, scale: 2)
            x += 14 + BitmapFont.width(of: text, scale: 2) + 12
        }
    }
}
