import Foundation

/// The training curves as an SVG a person can open in any browser: loss (train, validation) and
/// accuracy (train, validation) against epoch, side by side.
public enum TrainingCurves {
    public static func svg(_ rows: [EpochMetrics], title: String) -> String {
        let w = 900.0, h = 360.0, pad = 50.0, gap = 40.0
        let panelW = (w - 2 * pad - gap) / 2, panelH = h - 2 * pad
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(w / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

            """
        let epochs = rows.map { Double($0.epoch) }
        let maxEpoch = max(epochs.max() ?? 1, 1)
        func panel(_ x0: Double, _ name: String, _ series: [(String, String, [Double?])], yMax: Double) {
            s += "<rect x=\"\(x0)\" y=\"\(pad)\" width=\"\(panelW)\" height=\"\(panelH)\" fill=\"none\" stroke=\"#888\"/>\n"
            s += "<text x=\"\(x0 + panelW / 2)\" y=\"\(pad - 8)\" text-anchor=\"middle\">\(name)</text>\n"
            for k in 0...4 {
                let v = yMax * Double(k) / 4, y = pad + panelH * (1 - Double(k) / 4)
                s += "<line x1=\"\(x0)\" x2=\"\(x0 + panelW)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#eee\"/>"
                s += "<text x=\"\(x0 - 4)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
            }
            s += "<text x=\"\(x0 + panelW / 2)\" y=\"\(h - 12)\" text-anchor=\"middle\">epoch (1–\(Int(maxEpoch)))</text>\n"
            for (i, (label, colour, values)) in series.enumerated() {
                let points = zip(epochs, values).compactMap { e, v -> String? in
                    guard let v, v.isFinite else { return nil }
                    return String(format: "%.1f,%.1f", x0 + panelW * (maxEpoch > 1 ? (e - 1) / (maxEpoch - 1) : 0.5), pad + panelH * (1 - min(v, yMax) / yMax))
                }
                if !points.isEmpty {
                    s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
                    for p in points { let xy = p.split(separator: ","); s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(colour)\"/>" }
                }
                s += "<text x=\"\(x0 + 10)\" y=\"\(pad + 16 + 14 * Double(i))\" fill=\"\(colour)\">\(label)</text>\n"
            }
        }
        let lossMax = max(rows.flatMap { [$0.trainLoss, $0.validationLoss ?? 0] }.filter(\.isFinite).max() ?? 1, 0.1) * 1.1
        panel(pad, "loss", [("train", "#1f77b4", rows.map { $0.trainLoss }), ("validation", "#d62728", rows.map { $0.validationLoss })], yMax: lossMax)
        panel(pad + panelW + gap, "accuracy", [("train", "#1f77b4", rows.map { $0.trainAccuracy }), ("validation", "#d62728", rows.map { $0.validationAccuracy })], yMax: 1)
        return s + "</svg>\n"
    }

    static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
