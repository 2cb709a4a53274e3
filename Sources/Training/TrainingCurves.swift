import Foundation
import TesseraCore

/// The training curves as an SVG a person can open in any browser: loss (train, validation) on a
/// logarithmic axis and accuracy (train, validation) on 0…1, against epoch, side by side. Ticks
/// sit on whole epochs and on round values (1, 2, 5 × a power of ten).
public enum TrainingCurves {
    public static func svg(_ rows: [EpochMetrics], title: String) -> String {
        let w = 900.0, h = 360.0, pad = 56.0, gap = 56.0
        let panelW = (w - 2 * pad - gap) / 2, panelH = h - 2 * pad
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(w / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

            """
        let epochs = rows.map { Double($0.epoch) }
        let maxEpoch = max(epochs.max() ?? 1, 1)
        func xOf(_ x0: Double, _ e: Double) -> Double { x0 + panelW * (maxEpoch > 1 ? (e - 1) / (maxEpoch - 1) : 0.5) }
        func panel(_ x0: Double, _ name: String, _ series: [(String, String, [Double?])], ticks: [Double], position: (Double) -> Double) {
            s += "<rect x=\"\(x0)\" y=\"\(pad)\" width=\"\(panelW)\" height=\"\(panelH)\" fill=\"none\" stroke=\"#888\"/>\n"
            s += "<text x=\"\(x0 + panelW / 2)\" y=\"\(pad - 8)\" text-anchor=\"middle\">\(name)</text>\n"
            for v in ticks {
                let y = pad + panelH * (1 - position(v))
                s += "<line x1=\"\(x0)\" x2=\"\(x0 + panelW)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#eee\"/>"
                s += "<text x=\"\(x0 - 4)\" y=\"\(y + 4)\" text-anchor=\"end\">\(DecimalText.format(v))</text>\n"
            }
            for e in epochTicks(Int(maxEpoch)) {
                let x = xOf(x0, Double(e))
                s += "<line x1=\"\(x)\" x2=\"\(x)\" y1=\"\(pad + panelH)\" y2=\"\(pad + panelH + 4)\" stroke=\"#888\"/>"
                s += "<text x=\"\(x)\" y=\"\(pad + panelH + 16)\" text-anchor=\"middle\">\(e)</text>\n"
            }
            s += "<text x=\"\(x0 + panelW / 2)\" y=\"\(h - 10)\" text-anchor=\"middle\">epoch</text>\n"
            for (i, (label, colour, values)) in series.enumerated() {
                let points = zip(epochs, values).compactMap { e, v -> String? in
                    guard let v, v.isFinite else { return nil }
                    return String(format: "%.1f,%.1f", xOf(x0, e), pad + panelH * (1 - min(max(position(v), 0), 1)))
                }
                if !points.isEmpty {
                    s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
                    for p in points { let xy = p.split(separator: ","); s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(colour)\"/>" }
                }
                s += "<text x=\"\(x0 + panelW - 10)\" y=\"\(pad + 16 + 14 * Double(i))\" text-anchor=\"end\" fill=\"\(colour)\">\(label)</text>\n"
            }
        }
        let losses = rows.flatMap { [$0.trainLoss, $0.validationLoss].compactMap { $0 } }.filter { $0.isFinite && $0 > 0 }
        let axis = logAxis(min: losses.min() ?? 0.1, max: losses.max() ?? 1)
        panel(pad, "loss (log scale)", [("train", "#1f77b4", rows.map { $0.trainLoss }), ("validation", "#d62728", rows.map { $0.validationLoss })],
              ticks: axis.ticks) { v in v > 0 ? (log10(v) - axis.low) / (axis.high - axis.low) : 0 }
        panel(pad + panelW + gap, "accuracy", [("train", "#1f77b4", rows.map { $0.trainAccuracy }), ("validation", "#d62728", rows.map { $0.validationAccuracy })],
              ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]) { $0 }
        return s + "</svg>\n"
    }

    /// Whole epochs 1…n, thinned to a round step (1, 2, 5, 10, …) so at most about 10 are labelled.
    static func epochTicks(_ n: Int) -> [Int] {
        var step = 1
        for candidate in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] where n / candidate <= 10 { step = candidate; break }
        let ticks = Array(stride(from: step, through: n, by: step))
        return step == 1 ? ticks : [1] + ticks
    }

    /// A log10 axis over [min, max] widened to whole decades, with ticks at 1, 2 and 5 × each decade
    /// inside (only the decades when the range spans more than two).
    static func logAxis(min: Double, max: Double) -> (low: Double, high: Double, ticks: [Double]) {
        var low = floor(log10(min)), high = ceil(log10(max))
        if high <= low { high = low + 1 }
        if high - low > 6 { low = high - 6 }
        let multipliers: [Double] = high - low > 2 ? [1] : [1, 2, 5]
        var ticks: [Double] = []
        for d in Int(low)...Int(high) {
            for m in multipliers {
                let v = m * pow(10, Double(d))
                if log10(v) <= high + 1e-9 { ticks.append(Double(String(format: "%.6g", v))!) }
            }
        }
        return (low, high, ticks)
    }

    static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
