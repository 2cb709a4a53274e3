import Foundation
import SlideMIL
import TesseraTestSupport
import XCTest

/// tessera-mil train under mpirun: 2 ranks × 1 thread and 1 rank with the same bags per step end
/// with the same weights up to float rounding (the gradient sums are added in another order).
final class MILDataParallelTests: XCTestCase {
    func testTwoRanksMatchOneRank() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let features = dir.appendingPathComponent("features")
        try MILFixture.write(to: features)
        let exe = TestEnvironment.executable("tessera-mil")
        let common = ["train", "--features", features.path, "--epochs", "3", "--bags-per-step", "4", "--bag-cap", "16", "--hidden", "16",
                      "--attention-width", "8", "--learning-rate", "0.003", "--threads", "1"]
        let one = try runCommand(exe, common + ["--out", dir.appendingPathComponent("one").path])
        XCTAssertEqual(one.status, 0, one.output)
        let two = try runMPI(ranks: 2, exe, common + ["--out", dir.appendingPathComponent("two").path])
        XCTAssertEqual(two.status, 0, two.output)
        let a = try MILModel.read(dir.appendingPathComponent("one/mil-model.json"))
        let b = try MILModel.read(dir.appendingPathComponent("two/mil-model.json"))
        XCTAssertEqual(a.configuration.ranks, 1)
        XCTAssertEqual(b.configuration.ranks, 2)
        XCTAssertEqual(a.epoch, b.epoch, "the same best epoch")
        let scale = a.parameters.values.map { abs($0) }.max()!
        let worst = zip(a.parameters.values, b.parameters.values).map { abs($0 - $1) }.max()!
        print("2 ranks vs 1 rank: largest parameter difference \(worst) (largest parameter \(scale))")
        XCTAssertLessThan(worst / scale, 1e-4, "2 ranks × 1 thread vs 1 rank, same global batch")
    }

    func testBagsPerStepMustDivideAmongRanks() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let features = dir.appendingPathComponent("features")
        try MILFixture.write(to: features, train: 4, validation: 0, test: 0)
        let r = try runMPI(ranks: 2, TestEnvironment.executable("tessera-mil"),
                           ["train", "--features", features.path, "--out", dir.appendingPathComponent("m").path, "--bags-per-step", "3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("not a multiple of the 2 ranks"), r.output)
    }
}
