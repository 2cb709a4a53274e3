import FeatureStore
import Foundation
import HDF5
import TesseraCore
import TesseraTestSupport
import XCTest

/// The audit of a feature store against its tile store's tile counts: a clean store passes, and
/// each fault (missing file, wrong row count, NaN, unrecorded or disagreeing width, wrong split,
/// unknown slide) is one problem naming the file.
final class FeatureStoreAuditTests: XCTestCase {
    func slide(_ id: String, tiles n: Int, width d: Int = 4) -> SlideFeatures {
        SlideFeatures(slideID: id, patientID: "P-\(id)", label: "LUAD", width: d, features: (0..<(n * d)).map { Float($0) / 10 },
                      x: (0..<n).map { Int64($0 * 256) }, y: [Int64](repeating: 0, count: n), provenance: .init(layer: "avgpool"))
    }

    func write(_ s: SlideFeatures, split: String, in dir: URL) throws {
        try FeatureFile.write(s, split: split, to: FeatureStoreLayout.fileURL(dir, split: split, slideID: s.slideID))
    }

    func testCleanStorePassesAndFaultsAreNamed() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let expected = ["train": ["A": 3, "B": 0], "test": ["C": 2]]
        try write(slide("A", tiles: 3), split: "train", in: dir)
        try write(slide("B", tiles: 0), split: "train", in: dir)
        try write(slide("C", tiles: 2), split: "test", in: dir)
        let clean = FeatureStoreAudit.run(features: dir, expected: expected)
        XCTAssertEqual(clean.problems, [])
        XCTAssertEqual(clean.files, 3)
        XCTAssertEqual(clean.tiles, 5)
        XCTAssertEqual(clean.width, 4)
        XCTAssertTrue(clean.text.contains("every check passed"), clean.text)

        // A slide with a tile fewer than the store, one with a NaN, one missing, one in the wrong split, one unknown.
        try write(slide("A", tiles: 2), split: "train", in: dir)
        var c = slide("C", tiles: 2)
        c.features[5] = .nan
        try write(c, split: "test", in: dir)
        try FileManager.default.removeItem(at: FeatureStoreLayout.fileURL(dir, split: "train", slideID: "B"))
        try write(slide("B", tiles: 0), split: "validation", in: dir)
        try write(slide("Z", tiles: 1), split: "test", in: dir)
        let faulty = FeatureStoreAudit.run(features: dir, expected: expected)
        XCTAssertEqual(Set(faulty.problems), [
            "train/A.h5: 2 feature rows, the tile store has 3 tiles of slide A",
            "validation/B.h5: slide B is in the tile store's train split, not validation",
            "train/B: no feature file (run tessera-predict embed; it resumes)",
            "test/C.h5: 1 feature values are NaN or infinite",
            "test/Z.h5: slide Z is not in the tile store",
        ])
        XCTAssertFalse(faulty.passed)
    }

    func testWidthMustBeRecordedAndShared() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        try write(slide("A", tiles: 2, width: 4), split: "train", in: dir)
        try write(slide("B", tiles: 2, width: 8), split: "train", in: dir)
        // A file made elsewhere without the attribute: readable, but its width is not recorded.
        let url = FeatureStoreLayout.fileURL(dir, split: "test", slideID: "C")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let file = try HDF5File.create(path: url.path)
        try file.createDataset(FeatureStoreLayout.featuresDataset, of: Float.self, shape: [1, 4], chunk: [1, 4], checksum: false)
            .write([1, 2, 3, 4], offset: [0, 0], count: [1, 4])
        try file.createDataset(FeatureStoreLayout.coordsDataset, of: Int64.self, shape: [1, 2], chunk: [1, 2], checksum: false)
            .write([0, 0], offset: [0, 0], count: [1, 2])
        try file.close()
        let report = FeatureStoreAudit.run(features: dir, expected: ["train": ["A": 2, "B": 2], "test": ["C": 1]])
        XCTAssertEqual(report.problems, [
            "test/C.h5: no embedding_width attribute (the width is not recorded)",
            "files of different embedding widths: 4 (2 files, e.g. train/A.h5), 8 (1 files, e.g. train/B.h5); embed every split with one model",
        ])
        XCTAssertNil(report.width)
    }
}
