import Foundation
import Model
import Stain
import TesseraTestSupport
import XCTest

/// `--stain-reference slide:…` under mpirun: rank 0 alone reads the reference slide and sends its
/// tiles to the others, so two ranks fit the reference one rank fits, and a slide that gives no
/// reference ends the job once, with its usage error.
final class StainReferenceRanksTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-train")

    func testTwoRanksFitTheReferenceOneRankFits() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "stain-ranks")
        let store = dir.appendingPathComponent("store"), slide = dir.appendingPathComponent("reference.svs")
        try TrainingStoreFixture.write(store)
        let synth = try runCommand(TestEnvironment.executable("tessera-synth"), [
            "--single-slide", slide.path, "--class", "LUAD", "--width", "2048", "--height", "2048", "--mpp", "0.5",
        ], timeout: 300)
        XCTAssertEqual(synth.status, 0, synth.output)
        let args = ["--store", store.path, "--epochs", "1", "--input-size", "16", "--batch", "8", "--threads", "1", "--progress-interval", "0",
                    "--stain-norm", "reinhard", "--stain-reference", "slide:\(slide.path)@768,768,512,512"]
        var stains: [StainNormalization] = []
        for ranks in [1, 2] {
            let run = dir.appendingPathComponent("run-\(ranks)")
            let r = ranks == 1 ? try runCommand(exe, args + ["--out", run.path], timeout: 300)
                : try runMPI(ranks: ranks, exe, args + ["--out", run.path], timeout: 300)
            XCTAssertEqual(r.status, 0, r.output)
            stains.append(try XCTUnwrap(try ModelFile.read(run.appendingPathComponent("model.tsm")).header.normalization.stain))
        }
        // 256 tiles of 32² in the 512² region; the ranks' sums are added in another order.
        XCTAssertEqual(stains[1].referenceSource, stains[0].referenceSource)
        XCTAssertNotNil(stains[0].referenceSource.range(of: #"^slide reference\.svs region 768,768,512,512 \([1-9][0-9]* tiles\)$"#,
                                                          options: .regularExpression), stains[0].referenceSource)
        let one = try XCTUnwrap(stains[0].reinhard), two = try XCTUnwrap(stains[1].reinhard)
        for c in 0..<3 {
            XCTAssertEqual(two.mean[c], one.mean[c], accuracy: 1e-3 * max(1, abs(one.mean[c])), "L*a*b* mean \(c)")
            XCTAssertEqual(two.std[c], one.std[c], accuracy: 1e-3 * max(1, abs(one.std[c])), "L*a*b* std \(c)")
        }
        XCTAssertNotEqual(one.mean, ReinhardReference.builtIn.mean, "fitted, not the built-in reference")

        // A region outside the slide: exit 64 from rank 0's error, said once, no training.
        let bad = try runMPI(ranks: 2, exe, Array(args.dropLast()) + ["slide:\(slide.path)@0,0,99999,512", "--out", dir.appendingPathComponent("bad").path],
                             timeout: 300)
        XCTAssertEqual(bad.status, 64, bad.output)
        let message = "region 0,0,99999,512 lies outside the slide"
        XCTAssertEqual(bad.stderr.components(separatedBy: message).count - 1, 1, bad.stderr)
        XCTAssertFalse(bad.stderr.contains("epoch 1/1"), bad.stderr)
    }
}
