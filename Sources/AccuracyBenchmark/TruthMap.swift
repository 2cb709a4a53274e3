import Pictures
import Prediction
import SyntheticSlides
import TesseraCore

/// A slide's ground truth drawn as a map, to be read beside its predicted heatmap: every pixel the
/// truth at its centre — the tissue kind in its colour, glass white, an artefact striped over the
/// tissue under it (two of every four diagonals) — with a legend of the kinds it shows and a scale
/// bar. The kinds that are a model's classes (tumour LUAD, tumour LUSC, normal lung) take that
/// class's heatmap colour, so a correct heatmap and its truth map look alike.
public enum TruthMap {
    /// Which class of the model a region kind is (the benchmark's classes).
    static let classOfKind: [RegionKind: String] = [.tumourLUAD: "LUAD", .tumourLUSC: "LUSC", .normal: "normal"]

    /// Colours of the kinds that are no class, apart from the Okabe–Ito class colours and from
    /// one another: tissue in muted tones, artefacts in loud ones.
    static let kindColours: [RegionKind: RGB] = [
        .normal: (0x00, 0x9E, 0x73), .tumourLUAD: (0xD5, 0x5E, 0x00), .tumourLUSC: (0x00, 0x72, 0xB2),
        .tumourSolid: (0xCC, 0x79, 0xA7), .stroma: (0xF2, 0xC4, 0xB0), .blood: (0x99, 0x10, 0x10),
        .lymphocytes: (0x3A, 0x3A, 0x8C), .cartilage: (0xA8, 0xC8, 0xE0), .pigment: (0x30, 0x30, 0x30),
        .necrosis: (0x8C, 0x6D, 0x31), .mucin: (0xF0, 0xE4, 0x42),
        .pen: (0xFF, 0x00, 0xFF), .blur: (0x9A, 0x9A, 0x9A), .fold: (0x5C, 0x3A, 0x1A),
        .bubble: (0x00, 0xD0, 0xD0), .dust: (0x60, 0x60, 0x60), .tissue: (0x00, 0x9E, 0x73),
    ]
    public static let glass: RGB = (255, 255, 255)

    /// The colour of `kind` (nil: glass); a kind named like one of `classes` takes its heatmap colour.
    public static func colour(of kind: RegionKind?, classes: [String]) -> RGB {
        guard let kind else { return glass }
        if let name = classOfKind[kind], let k = classes.firstIndex(of: name) { return Heatmap.colour(ofClass: k) }
        return kindColours[kind] ?? (0x80, 0x80, 0x80)
    }

    /// Whether pixel (x, y) of an artefact shows the artefact's colour (else the tissue's).
    @inline(__always) static func isStripe(x: Int, y: Int) -> Bool { (x + y) % 4 < 2 }

    /// The map alone, `width` × `height` pixels over the whole slide; also the kinds it shows, in
    /// `RegionKind` order (nil, glass, last when present).
    public static func render(_ truth: SlideTruth, classes: [String], width: Int, height: Int) -> (image: RGBImage, kinds: [RegionKind?]) {
        let cells = truth.sampled(columns: width, rows: height)
        var image = RGBImage(width: width, height: height, fill: glass)
        var shown = Set<RegionKind>()
        var glassShown = false
        for y in 0..<height {
            for x in 0..<width {
                let cell = cells[y * width + x]
                var colour = colour(of: cell.kind, classes: classes)
                if let kind = cell.kind { shown.insert(kind) } else { glassShown = true }
                if let artefact = cell.artefact {
                    shown.insert(artefact)
                    if isStripe(x: x, y: y) { colour = Self.colour(of: artefact, classes: classes) }
                }
                let i = (y * width + x) * 3
                image.pixels[i] = colour.0
                image.pixels[i + 1] = colour.1
                image.pixels[i + 2] = colour.2
            }
        }
        let kinds: [RegionKind?] = RegionKind.allCases.filter(shown.contains) + (glassShown ? [nil] : [])
        return (image, kinds)
    }

    /// The map `width` pixels wide (at the slide's proportions) above its legend: `caption` lines,
    /// a swatch per kind shown, and a scale bar when the slide's µm per level-0 pixel is known.
    public static func picture(_ truth: SlideTruth, classes: [String], width: Int, caption: [String], slideMPP: Double?) -> RGBImage {
        let size = (width: width, height: max(1, Int((Double(width) * Double(truth.height) / Double(truth.width)).rounded())))
        let (map, kinds) = render(truth, classes: classes, width: size.width, height: size.height)
        let swatches = kinds.map { kind in
            LegendPanel.Swatch(name: kind.map(name) ?? "glass", colour: colour(of: kind, classes: classes))
        }
        let legend = LegendPanel(lines: caption + ["artefacts striped over the tissue under them"], swatches: swatches,
                                 micronsPerPixel: slideMPP.map { $0 * Double(truth.width) / Double(size.width) })
        return RGBImage.stacked(map, legend.render(width: size.width))
    }

    /// A kind's name in the legend: the class name for the kinds that are classes.
    static func name(_ kind: RegionKind) -> String {
        if let c = classOfKind[kind], kind != .normal { return "tumour \(c)" }
        return kind.rawValue.replacingOccurrences(of: "_", with: " ")
    }
}
