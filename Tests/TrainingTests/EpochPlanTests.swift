import Foundation
import Model
import TesseraCore
import Training
import XCTest

final class EpochPlanTests: XCTestCase {
    func testEqualDisjointShardsAndEqualStepCounts() {
        for (tiles, ranks, batch) in [(1000, 2, 32), (1001, 3, 16), (97, 4, 8), (64, 2, 32), (5, 1, 5)] {
            let plan = EpochPlan(tiles: tiles, ranks: ranks, batch: batch, seed: 9, epoch: 2)
            XCTAssertEqual(plan.stepsPerEpoch, tiles / (ranks * batch))
            let shards = (0..<ranks).map { plan.shard(rank: $0) }
            XCTAssertTrue(shards.allSatisfy { $0.count == plan.stepsPerEpoch * batch }, "equal shards")
            let all = shards.flatMap { $0 }
            XCTAssertEqual(Set(all).count, all.count, "disjoint")
            XCTAssertTrue(all.allSatisfy { $0 >= 0 && $0 < tiles })
            XCTAssertLessThan(tiles - all.count, ranks * batch, "only a remainder smaller than a global batch sits out")
        }
    }

    func testRanksTimesBatchSeesTheSameTilesAsOneRankWithTheGlobalBatch() {
        let two = EpochPlan(tiles: 500, ranks: 2, batch: 16, seed: 3, epoch: 1)
        let one = EpochPlan(tiles: 500, ranks: 1, batch: 32, seed: 3, epoch: 1)
        XCTAssertEqual(two.stepsPerEpoch, one.stepsPerEpoch)
        for step in 0..<one.stepsPerEpoch {
            XCTAssertEqual(Array(two.batch(rank: 0, step: step)) + Array(two.batch(rank: 1, step: step)), Array(one.batch(rank: 0, step: step)))
        }
    }

    func testDeterministicPerEpochAndDifferentAcrossEpochs() {
        let a = EpochPlan(tiles: 300, ranks: 1, batch: 10, seed: 5, epoch: 0)
        XCTAssertEqual(a, EpochPlan(tiles: 300, ranks: 1, batch: 10, seed: 5, epoch: 0))
        XCTAssertNotEqual(a.shard(rank: 0), EpochPlan(tiles: 300, ranks: 1, batch: 10, seed: 5, epoch: 1).shard(rank: 0))
        XCTAssertNotEqual(a.shard(rank: 0), EpochPlan(tiles: 300, ranks: 1, batch: 10, seed: 6, epoch: 0).shard(rank: 0))
    }

    func testValidationShardsCoverEveryTileOnce() {
        let shards = (0..<3).map { validationShard(tiles: 10, ranks: 3, rank: $0) }
        XCTAssertEqual(shards, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]])
    }
}

final class ArchiveTests: XCTestCase {
    struct Header: Codable, Equatable { var name: String; var n: Int }

    func testRoundTripAndDamageDetection() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.tsc")
        let weights: [Float] = [1.5, -2, .pi, 0, .leastNonzeroMagnitude]
        try Archive.write(to: url, magic: "TESSCKPT", header: Header(name: "x", n: 3), blobs: [("w", weights), ("empty", [])])
        let (h, blobs) = try Archive.read(url, magic: "TESSCKPT", header: Header.self)
        XCTAssertEqual(h, Header(name: "x", n: 3))
        XCTAssertEqual(blobs["w"], weights)
        XCTAssertEqual(blobs["empty"], [])
        // Wrong kind of file, cut short, one flipped bit.
        XCTAssertThrowsError(try Archive.read(url, magic: "TESSMODL", header: Header.self)) { XCTAssertTrue("\($0)".contains("not a Tessera model file"), "\($0)") }
        var bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 3).write(to: url)
        XCTAssertThrowsError(try Archive.read(url, magic: "TESSCKPT", header: Header.self)) { XCTAssertTrue("\($0)".contains(url.path)) }
        bytes[bytes.count - 2] ^= 0x10
        try bytes.write(to: url)
        XCTAssertThrowsError(try Archive.read(url, magic: "TESSCKPT", header: Header.self)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
    }
}
