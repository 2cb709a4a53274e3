import Foundation
import HDF5
import TesseraCore

/// The audit of a feature store against the tile store it was embedded from (`tessera-audit
/// STORE --features FEAT`): every slide of each split of the tile store has a feature file in the
/// same split with one row per tile, each file records its embedding width (`embedding_width`,
/// equal to the width of `features`) and all files share it, no value is NaN or infinite, and no
/// feature file belongs to a slide the tile store does not have there. Pure over the files: the
/// caller gives the tile counts the store holds.
public enum FeatureStoreAudit {
    public struct Report: Codable, Equatable, Sendable {
        public var features: String
        public var files = 0
        public var tiles = 0
        /// The embedding width all files share; nil when none could be read (or they differ).
        public var width: Int?
        /// What is wrong, each naming its file or slide; empty when the store passed.
        public var problems: [String] = []

        public var passed: Bool { problems.isEmpty }

        /// The lines tessera-audit prints.
        public var text: String {
            var s = "feature store \(features): \(files) files, \(tiles) tiles" + (width.map { ", embedding width \($0)" } ?? "") + "\n"
            for p in problems { s += "  PROBLEM \(p)\n" }
            return s + (passed ? "feature store: every check passed\n" : "feature store: FAILED (\(problems.count) problem\(problems.count == 1 ? "" : "s"))\n")
        }
    }

    /// - Parameter expected: split → slide id → the number of tiles the tile store holds for it.
    public static func run(features: URL, expected: [String: [String: Int]]) -> Report {
        var report = Report(features: features.path)
        var widths: [Int: [String]] = [:]
        var splitOf: [String: String] = [:]
        for (split, slides) in expected { for id in slides.keys { splitOf[id] = split } }
        for split in FeatureStoreLayout.splits {
            var seen = Set<String>()
            for url in FeatureStoreLayout.files(in: features, split: split) {
                report.files += 1
                let name = "\(split)/\(url.lastPathComponent)"
                let slide: SlideFeatures
                do { slide = try FeatureFile.read(url) } catch {
                    report.problems.append("\(name): unreadable (\(error)); embed it again (tessera-predict embed --force)")
                    continue
                }
                seen.insert(slide.slideID)
                report.tiles += slide.tileCount
                widths[slide.width, default: []].append(name)
                if let problem = recordedWidthProblem(url, width: slide.width) { report.problems.append("\(name): \(problem)") }
                let bad = slide.features.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
                if bad > 0 { report.problems.append("\(name): \(bad) feature values are NaN or infinite") }
                if let n = expected[split]?[slide.slideID] {
                    if n != slide.tileCount {
                        report.problems.append("\(name): \(slide.tileCount) feature rows, the tile store has \(n) tiles of slide \(slide.slideID)")
                    }
                } else if let other = splitOf[slide.slideID] {
                    report.problems.append("\(name): slide \(slide.slideID) is in the tile store's \(other) split, not \(split)")
                } else if !expected.isEmpty {
                    report.problems.append("\(name): slide \(slide.slideID) is not in the tile store")
                }
            }
            for id in (expected[split] ?? [:]).keys.sorted() where !seen.contains(id) {
                report.problems.append("\(split)/\(id): no feature file (run tessera-predict embed; it resumes)")
            }
        }
        if widths.count == 1 { report.width = widths.keys.first }
        if widths.count > 1 {
            let listing = widths.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.count) files, e.g. \($0.value[0]))" }
            report.problems.append("files of different embedding widths: \(listing.joined(separator: ", ")); embed every split with one model")
        }
        if report.files == 0 { report.problems.append("no feature files in \(FeatureStoreLayout.splits.map { "\($0)/" }.joined(separator: ", "))") }
        return report
    }

    /// nil when the file's `embedding_width` attribute is there and equals `width`.
    static func recordedWidthProblem(_ url: URL, width: Int) -> String? {
        do {
            let file = try HDF5File.open(path: url.path)
            defer { try? file.close() }
            guard file.hasAttribute(FeatureStoreAttribute.embeddingWidth.rawValue) else {
                return "no \(FeatureStoreAttribute.embeddingWidth.rawValue) attribute (the width is not recorded)"
            }
            let recorded = try file.intAttribute(FeatureStoreAttribute.embeddingWidth.rawValue)
            return recorded == Int64(width) ? nil : "\(FeatureStoreAttribute.embeddingWidth.rawValue) is \(recorded), `features` is \(width) wide"
        } catch {
            return "attributes unreadable (\(error))"
        }
    }
}
