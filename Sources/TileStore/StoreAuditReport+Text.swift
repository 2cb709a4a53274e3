import Foundation
import Tiling

extension StoreAuditReport {
    /// The report for a terminal: the store's parameters, a table of counts per split, the tiler's
    /// failures, every problem with its file, and a closing verdict line ("OK: …" or "FAILED: …").
    public var text: String {
        var lines: [String] = []
        let perSplit = TileStoreLayout.splits.compactMap { name -> String? in
            let n = files.filter { $0.split == name }.count
            return n > 0 ? "\(n) \(name)" : nil
        }
        lines.append("Store \(store): \(files.count) file\(files.count == 1 ? "" : "s")"
            + (perSplit.isEmpty ? "" : " (\(perSplit.joined(separator: ", ")))"))
        if let tileSize, let encoding {
            var target: [String] = []
            if let targetMPP { target.append("\(format(targetMPP)) µm/px") }
            if let targetMagnification { target.append("\(format(targetMagnification))×") }
            if let level { target.append("level \(level)") }
            lines.append("Tiles: \(tileSize)×\(tileSize) px, \(encoding.rawValue)"
                + (target.isEmpty ? "" : ", \(target.joined(separator: ", "))")
                + "; classes: \(classes.isEmpty ? "none" : classes.joined(separator: ", "))")
        }
        if !splits.isEmpty {
            lines.append("")
            lines += table
        }
        if let qc {
            lines.append("")
            lines.append("Tissue and QC: \(qc)")
        }
        if splits.contains(where: { $0.tilesDropped != nil }) {
            lines.append("Candidate tiles and why they were dropped (mask: glass on the tissue mask, never read):")
            lines += droppedTable
        }
        if !failures.isEmpty {
            lines.append("")
            lines.append("Tiler failures (\(failures.count)):")
            for f in failures {
                lines.append("  \(f.file): \(f.slideID) (\(f.slidePath)) at \(f.stage): \(f.message)")
            }
        }
        if !completenessChecked {
            lines.append("")
            lines.append("Completeness not checked: no tiler status files (status/task-*.json) to say what the store should hold.")
        } else if !missing.isEmpty {
            lines.append("")
            lines.append("Missing from the store (\(missing.count)), by the tiler's status files:")
            for m in missing { lines.append("  \(m)") }
        }
        if !problems.isEmpty {
            lines.append("")
            lines.append("Problems (\(problems.count)):")
            for p in problems {
                lines.append("  \(p.file ?? store): [\(p.kind.rawValue)] \(p.message)")
            }
        }
        lines.append("")
        let checked = "\(tilesChecked) tile\(tilesChecked == 1 ? "" : "s") checked"
        if passed {
            lines.append("OK: \(files.count) files, \(checked), no problems")
        } else {
            lines.append("FAILED: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(files.count) files, \(checked)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Considered, kept and dropped by reason per split, aligned in columns.
    var droppedTable: [String] {
        let reasons = TileDropReason.allCases.map(\.rawValue)
        let header = ["split", "considered", "kept"] + reasons.map { "dropped \($0)" }
        let rows = splits.map { s -> [String] in
            [s.split, String(s.tilesConsidered), String(s.tiles)] + reasons.map { r in String(s.tilesDropped?[r] ?? 0) }
        }
        return aligned(header: header, rows: rows)
    }

    /// The counts per split, aligned in columns.
    var table: [String] {
        let header = ["split", "files", "slides", "patients", "tiles"] + classes + ["unlabelled", "no tiles", "tiles/slide min", "median", "mean", "max"]
        let rows = splits.map { s -> [String] in
            let counts = [s.files, s.slides, s.patients, s.tiles] + classes.map { s.tilesPerClass[$0] ?? 0 }
                + [s.unlabelledTiles, s.slidesWithoutTiles]
            var cells = [s.split] + counts.map { String($0) }
            if let d = s.tilesPerSlide {
                cells += [String(d.min), format(d.median), String(format: "%.1f", d.mean), String(d.max)]
            } else {
                cells += ["-", "-", "-", "-"]
            }
            return cells
        }
        return aligned(header: header, rows: rows)
    }

    private func aligned(header: [String], rows: [[String]]) -> [String] {
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}
