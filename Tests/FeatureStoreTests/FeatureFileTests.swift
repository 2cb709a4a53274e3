import FeatureStore
import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// Feature files: a round trip through the HDF5 wrapper, read by h5py in the layout other MIL code
/// expects, and a file written by h5py (only `features` and `coords`) read by Tessera.
final class FeatureFileTests: XCTestCase {
    func sample() -> SlideFeatures {
        var rng = SeededGenerator(seed: 5)
        let n = 37, d = 6
        return SlideFeatures(slideID: "S-01", patientID: "P-01", label: "LUAD", width: d,
                             features: (0..<(n * d)).map { _ in Float(rng.nextUnit() - 0.5) },
                             x: (0..<n).map { Int64($0 * 512) }, y: (0..<n).map { Int64(1000 + $0) },
                             provenance: .init(model: "model.tessera", modelDigest: "abc123", layer: "avgpool", tileSize: 128, level: 1,
                                               downsample: 4, mpp: 1.0))
    }

    func testRoundTrip() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let url = FeatureStoreLayout.fileURL(dir, split: "test", slideID: "S-01")
        let slide = sample()
        try FeatureFile.write(slide, split: "test", to: url)
        XCTAssertEqual(try FeatureFile.read(url), slide)
        XCTAssertEqual(FeatureStoreLayout.files(in: dir, split: "test"), [url])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary left behind")
    }

    /// The python that has h5py (Debian's python3-h5py), or a skip.
    func h5pyPython() throws -> String {
        for python in ["/usr/bin/python3", "python3"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [python, "-c", "import h5py"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            if p.terminationStatus == 0 { return python }
        }
        throw XCTSkip("h5py is not installed (apt-get install python3-h5py)")
    }

    func runPython(_ python: String, _ script: String) throws -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script]
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "python failed")
        return String(decoding: data, as: UTF8.self)
    }

    func testH5pyReadsTesseraFeatures() throws {
        let python = try h5pyPython()
        let dir = try TestEnvironment.temporaryDirectory(self)
        let url = FeatureStoreLayout.fileURL(dir, split: "train", slideID: "S-01")
        let slide = sample()
        try FeatureFile.write(slide, split: "train", to: url)
        let out = try runPython(python, """
        import h5py
        f = h5py.File('\(url.path)', 'r')
        x = f['features']; c = f['coords']
        print(x.dtype, x.shape[0], x.shape[1], c.shape[0], c.shape[1])
        print('%.9g %.9g' % (x[3, 2], x[36, 5]))
        print(c[5, 0], c[5, 1])
        a = f.attrs
        def s(v): return v.decode() if isinstance(v, bytes) else str(v)
        print(s(a['slide_id']), s(a['label']), int(a['patch_size']), int(a['patch_level']), int(a['embedding_width']), s(a['model_digest']))
        """)
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "float32 37 6 37 2")
        let values = lines[1].split(separator: " ").map { Float($0)! }
        XCTAssertEqual(values, [slide.features[3 * 6 + 2], slide.features[36 * 6 + 5]])
        XCTAssertEqual(lines[2], "\(slide.x[5]) \(slide.y[5])")
        XCTAssertEqual(lines[3], "S-01 LUAD 128 1 6 abc123")
    }

    func testReadsFeaturesMadeElsewhere() throws {
        let python = try h5pyPython()
        let dir = try TestEnvironment.temporaryDirectory(self)
        let path = dir.appendingPathComponent("TCGA-XY.h5").path
        _ = try runPython(python, """
        import h5py, numpy as np
        f = h5py.File('\(path)', 'w')
        f['features'] = (np.arange(20, dtype=np.float32).reshape(5, 4) / 8)
        f['coords'] = np.array([[i * 256, 7] for i in range(5)], dtype=np.int64)
        f.attrs['label'] = 'LUSC'
        f.close()
        """)
        let slide = try FeatureFile.read(URL(fileURLWithPath: path))
        XCTAssertEqual(slide.slideID, "TCGA-XY", "the slide id defaults to the file name")
        XCTAssertEqual(slide.patientID, "TCGA-XY")
        XCTAssertEqual(slide.label, "LUSC")
        XCTAssertEqual(slide.width, 4)
        XCTAssertEqual(slide.features, (0..<20).map { Float($0) / 8 })
        XCTAssertEqual(slide.x, [0, 256, 512, 768, 1024])
        XCTAssertEqual(slide.y, [7, 7, 7, 7, 7])
    }
}
