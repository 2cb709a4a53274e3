import Foundation
import SyntheticSlides

/// The tiler's artefact QC judged by the ground truth, from a store's QC tables
/// (`STORE/qc/<slide_id>.csv`: every position read and what became of it). Every tile that passed
/// the background rule is what the tiler keeps with QC off, so one store tiled with QC gives both
/// sides: artefact tiles (true label `artefact`: artefacts cover half the tile) kept with QC off
/// and on, and clean tissue tiles (no artefact at all, tissue at least half) that QC dropped.
public struct TilingQCFigures: Codable, Equatable, Sendable {
    public var slides = 0
    /// Tiles that passed the background rule (kept with QC off).
    public var tilesPassedBackground = 0
    public var droppedPen = 0
    public var droppedBlur = 0
    public var droppedFold = 0
    public var droppedBubble = 0
    public var artefactTiles = 0
    public var artefactTilesKept = 0
    public var cleanTiles = 0
    public var cleanTilesDropped = 0

    /// How much fewer artefact tiles are kept with QC on than off (target ≥ 0.8).
    public var artefactReduction: Double? { artefactTiles > 0 ? 1 - Double(artefactTilesKept) / Double(artefactTiles) : nil }
    /// Share of clean tissue tiles that QC dropped (target ≤ 0.02).
    public var cleanLost: Double? { cleanTiles > 0 ? Double(cleanTilesDropped) / Double(cleanTiles) : nil }

    /// nil when the store has no QC tables or was tiled without QC (no measures in them).
    public static func measure(store: URL, table: TileTruthTable) throws -> TilingQCFigures? {
        let folder = store.appendingPathComponent("qc")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        var figures = TilingQCFigures()
        var tiles = "slide_id,x,y\n"
        var decisions: [String] = []
        var measured = false
        for name in names.sorted() where name.hasSuffix(".csv") {
            let slideID = String(name.dropLast(4))
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            figures.slides += 1
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: ",", omittingEmptySubsequences: false)
                guard f.count >= 5, f[2] != "background" else { continue }
                if !f[3].isEmpty || !f[4].isEmpty { measured = true }
                tiles += "\(slideID),\(f[0]),\(f[1])\n"
                decisions.append(String(f[2]))
            }
        }
        guard measured else { return nil }
        let truth = try table.compute(tilesCSV: tiles, tilesPath: folder.path)
        for (k, line) in truth.split(separator: "\n").dropFirst().enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 8, let artefact = Double(f[6]) else { continue }
            let label = f[7]
            let kept = decisions[k] == "kept"
            figures.tilesPassedBackground += 1
            if decisions[k] == "pen" { figures.droppedPen += 1 }
            if decisions[k] == "blur" { figures.droppedBlur += 1 }
            if decisions[k] == "fold" { figures.droppedFold += 1 }
            if decisions[k] == "bubble" { figures.droppedBubble += 1 }
            if label == "artefact" {
                figures.artefactTiles += 1
                if kept { figures.artefactTilesKept += 1 }
            } else if artefact == 0 && label != "glass" {
                figures.cleanTiles += 1
                if !kept { figures.cleanTilesDropped += 1 }
            }
        }
        return figures
    }

    /// A share as `12.3 %`, or `–` when there is none (the report's form).
    static func percent(_ v: Double?) -> String { v.map { String(format: "%.1f %%", 100 * $0) } ?? "–" }

    /// The benchmark.md section.
    public var markdown: String {
        let pct = Self.percent
        var s = "\nTile QC judged by the truth (\(slides) slides; tiles that passed the background rule, i.e. what QC off keeps: "
        s += "\(tilesPassedBackground); dropped as pen \(droppedPen), as blur \(droppedBlur), as fold \(droppedFold), as bubble \(droppedBubble)):\n\n"
        s += "| | QC off | QC on | change |\n|---|---:|---:|---:|\n"
        s += "| artefact tiles kept (true label artefact) | \(artefactTiles) | \(artefactTilesKept) | −\(pct(artefactReduction)) (target ≥ 80 %) |\n"
        s += "| clean tissue tiles kept (no artefact) | \(cleanTiles) | \(cleanTiles - cleanTilesDropped) | −\(pct(cleanLost)) (target ≤ 2 %) |\n"
        return s
    }
}

extension TilingQCFigures {
    /// Copies the QC pictures of the `count` slides with the most QC drops (then by id) into
    /// `out/qc/`; returns their paths relative to `out`.
    public static func copyPictures(store: URL, out: URL, count: Int) throws -> [String] {
        let folder = store.appendingPathComponent("qc")
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder.path) else { return [] }
        let ranked = try names.filter { $0.hasSuffix(".csv") }.map { name -> (String, Int) in
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let drops = text.split(separator: "\n").filter { $0.contains(",pen,") || $0.contains(",blur,") || $0.contains(",fold,") || $0.contains(",bubble,") }.count
            return (String(name.dropLast(4)), drops)
        }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        let target = out.appendingPathComponent("qc")
        try fm.createDirectory(at: target, withIntermediateDirectories: true)
        var copied: [String] = []
        for (id, _) in ranked.prefix(count) where fm.fileExists(atPath: folder.appendingPathComponent("\(id).jpg").path) {
            let destination = target.appendingPathComponent("\(id).jpg")
            try? fm.removeItem(at: destination)
            try fm.copyItem(at: folder.appendingPathComponent("\(id).jpg"), to: destination)
            copied.append("qc/\(id).jpg")
        }
        return copied
    }
}
