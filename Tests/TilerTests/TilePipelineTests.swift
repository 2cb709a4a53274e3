// The tiler's pipeline: batches handed over in order whatever the threads, workers never more than
// `lookahead` batches ahead of the hand-over, and the first error stops the run.
import Foundation
import TesseraCore
import Tiling
import XCTest

@testable import SlideTiles

final class TilePipelineTests: XCTestCase {
    /// Batches of uneven sizes (some empty) over positions 0…n−1; position p is kept when p % 3 != 0
    /// (its tile's bytes are [p % 256]) and reduced in the decoder when p % 5 == 0.
    private static let batches: [[Int]] = {
        var next = 0
        return [7, 0, 13, 1, 0, 40, 9, 3, 0, 22].map { size in
            defer { next += size }
            return Array(next..<(next + size))
        }
    }()

    private final class Record: @unchecked Sendable {
        let lock = NSLock()
        var handedOver = 0
        var aheadViolations = 0
    }

    /// The verdict of no checks (every measure nil, kept).
    private static let noQC = ArtefactQC(checks: .none).evaluate(RGBImage(width: 1, height: 1, fill: (0, 0, 0)))

    private static func batch(of position: Int) -> Int { batches.firstIndex { $0.contains(position) }! }

    func testBatchesAreHandedOverInOrderWithEveryOutcomeWhateverTheThreads() throws {
        for workers in [1, 2, 3] {
            for claim in [1, 4] {
                let pipeline = TilePipeline(batches: Self.batches, claim: claim, lookahead: 2)
                let record = Record()
                var delivered: [[Int]] = []
                try pipeline.run(workers: workers, cut: { position, worker in
                    XCTAssertLessThan(worker, workers)
                    record.lock.lock()
                    if Self.batch(of: position) >= record.handedOver + 2 { record.aheadViolations += 1 }
                    record.lock.unlock()
                    usleep(UInt32(position % 4) * 200)  // uneven work, so threads finish out of order
                    let outcome: TileOutcome = position % 3 == 0 ? .dropped(.background, nil)
                        : .kept(TileOutput(x: position, y: -position, background: 0, bytes: [UInt8(position % 256)], digest: 0), Self.noQC)
                    return (outcome, position % 5 == 0)
                }, deliver: { b, outcomes in
                    delivered.append(outcomes.map { outcome in
                        switch outcome {
                        case let .kept(t, _): return t.x
                        case .dropped: return -1
                        }
                    })
                    record.lock.lock()
                    record.handedOver = b + 1
                    record.lock.unlock()
                })
                let expected = Self.batches.map { $0.map { $0 % 3 == 0 ? -1 : $0 } }
                XCTAssertEqual(delivered, expected, "\(workers) workers, claim \(claim)")
                XCTAssertEqual(pipeline.scaledInDecoder, Self.batches.joined().filter { $0 % 5 == 0 }.count)
                XCTAssertEqual(record.aheadViolations, 0, "a worker ran more than 2 batches ahead of the hand-over")
            }
        }
    }

    struct Planted: Error, Equatable { let position: Int }

    func testTheFirstErrorOfAWorkerOrOfTheHandOverStopsTheRun() {
        for workers in [1, 2] {
            var handed: [Int] = []
            XCTAssertThrowsError(try TilePipeline(batches: Self.batches, claim: 4).run(workers: workers, cut: { position, _ in
                if position == 30 { throw Planted(position: position) }
                return (.dropped(.background, nil), false)
            }, deliver: { b, _ in handed.append(b) })) { XCTAssertEqual($0 as? Planted, Planted(position: 30)) }
            // Position 30 is in batch 5: the batches before it may have been handed over, never it or later.
            XCTAssertTrue(handed.allSatisfy { $0 < 5 }, "\(handed)")

            let record = Record()
            XCTAssertThrowsError(try TilePipeline(batches: Self.batches, claim: 1).run(workers: workers, cut: { _, _ in
                record.lock.lock()
                record.handedOver += 1  // here: positions cut
                record.lock.unlock()
                return (.dropped(.background, nil), false)
            }, deliver: { b, _ in if b == 0 { throw Planted(position: -1) } })) { XCTAssertEqual($0 as? Planted, Planted(position: -1)) }
            // The hand-over of batch 0 failed: the workers may have cut batches 0 and 1 (7 and 0
            // positions), never batch 2, which waits for batch 0 to be handed over.
            XCTAssertEqual(record.handedOver, 7)
        }
    }
}
