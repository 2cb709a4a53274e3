import Foundation
import JPEG
import Model
import Pictures
import TesseraCore

/// A slide's ABMIL attention drawn over its picture, `PRED/heatmaps/<slide>-attention.jpg` beside
/// the class heatmap, at the same size and with the same legend strip: the slide id, the ABMIL
/// prediction, a colour bar from 0 to the slide's largest attention weight, the scale bar.
///
/// Each tile is painted at `colour(w / w_max)` on a sequential ramp (viridis' anchors: dark purple
/// → blue → teal → green → yellow, readable by colour-blind readers and in grey), at opacity
/// 0.15 + 0.35·w/w_max — the tile the model attends to most in the colour of the bar's top at
/// opacity 0.5, as the class heatmap's most confident tile.
enum AttentionHeatmap {
    static let ramp: [RGB] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    /// The ramp's colour at `v` in [0, 1] (clamped), linear between anchors.
    static func colour(_ v: Double) -> RGB {
        let t = max(0, min(1, v.isFinite ? v : 0)) * Double(ramp.count - 1)
        let i = min(ramp.count - 2, Int(t)), f = t - Double(i)
        let a = ramp[i], b = ramp[i + 1]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) + (Double(q) - Double(p)) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    static func opacity(_ v: Double) -> Double { 0.15 + (Heatmap.maxOpacity - 0.15) * max(0, min(1, v)) }

    /// The map over `background` (the slide's picture at canvas size) and its legend below.
    static func picture(_ d: SlidePlacement, background: RGBImage, attention a: MILOutputs.Attention, slideID: String, verdict: String) -> RGBImage {
        let top = Double(a.weights.max() ?? 0)
        let map = Heatmap.paint(background: background, slideWidth: d.width, slideHeight: d.height, x: a.x, y: a.y, tileSpan: d.tileSpan) { t in
            let v = top > 0 ? Double(a.weights[t]) / top : 0
            return (colour(v), opacity(v))
        }
        let bar = LegendPanel.ColourBar(low: "0", high: String(format: "%.3g (max attention)", top), colour: colour)
        let legend = LegendPanel(lines: ["slide \(slideID): ABMIL attention, \(a.weights.count) tiles", verdict], colourBar: bar,
                                 micronsPerPixel: d.resolution.map { $0.mpp * Double(d.width) / Double(background.width) })
        return RGBImage.stacked(map, legend.render(width: background.width))
    }

    /// "predicted LUAD p=0.93 (ABMIL), label LUAD".
    static func verdict(probabilities p: [Double], label: String?, classes: [String]) -> String {
        let k = SlideAggregator.argmax(p)
        return "predicted \(classes[k]) p=\(String(format: "%.2f", p[k])) (ABMIL)" + (label.map { ", label \($0)" } ?? "")
    }

    static func write(_ image: RGBImage, to url: URL) throws {
        try AtomicFile.write(Data(try JPEGEncoder(quality: 90).encode(image)), to: url)
    }
}
