import SlideMIL
import XCTest

/// The epoch plan and bag caps: equal bags per rank, every bag each epoch, the same draw for the
/// same (seed, epoch), and class weights that balance the loss.
final class BagPlanTests: XCTestCase {
    func testEveryRankTakesEqualSharesAndEveryBagIsSeen() {
        let plan = BagEpochPlan(bags: 11, bagsPerStep: 4, ranks: 2, seed: 3, epoch: 5)
        XCTAssertEqual(plan.steps, 3)
        var seen = Set<Int>()
        for step in 0..<plan.steps {
            let a = plan.bags(step: step, rank: 0), b = plan.bags(step: step, rank: 1)
            XCTAssertEqual(a.count, 2)
            XCTAssertEqual(b.count, 2)
            seen.formUnion(a + b)
        }
        XCTAssertEqual(seen, Set(0..<11))
        let single = BagEpochPlan(bags: 11, bagsPerStep: 4, ranks: 1, seed: 3, epoch: 5)
        for step in 0..<plan.steps {
            XCTAssertEqual(single.bags(step: step, rank: 0), plan.bags(step: step, rank: 0) + plan.bags(step: step, rank: 1),
                           "one rank takes what two ranks take together")
        }
        XCTAssertEqual(plan, BagEpochPlan(bags: 11, bagsPerStep: 4, ranks: 2, seed: 3, epoch: 5))
        XCTAssertNotEqual(plan.order, BagEpochPlan(bags: 11, bagsPerStep: 4, ranks: 2, seed: 3, epoch: 6).order)
    }

    func testBagCap() {
        XCTAssertEqual(BagSet.cappedTiles(count: 5, cap: 10, seed: 1, epoch: 0, slide: 0), [0, 1, 2, 3, 4])
        XCTAssertEqual(BagSet.cappedTiles(count: 5, cap: 0, seed: 1, epoch: 0, slide: 0), [0, 1, 2, 3, 4])
        let a = BagSet.cappedTiles(count: 1000, cap: 64, seed: 1, epoch: 2, slide: 7)
        XCTAssertEqual(a.count, 64)
        XCTAssertEqual(Set(a).count, 64)
        XCTAssertEqual(a, a.sorted())
        XCTAssertEqual(a, BagSet.cappedTiles(count: 1000, cap: 64, seed: 1, epoch: 2, slide: 7))
        XCTAssertNotEqual(a, BagSet.cappedTiles(count: 1000, cap: 64, seed: 1, epoch: 3, slide: 7))
    }

    func testBalancedClassWeights() {
        let w = balancedClassWeights(labels: [0, 0, 0, 1], classes: 3)
        // N / (C_present · N_c): 4 / (2·3), 4 / (2·1), absent 0; each present class totals N / C_present.
        XCTAssertEqual(Double(w[0]), 4.0 / 6, accuracy: 1e-6)
        XCTAssertEqual(Double(w[1]), 2, accuracy: 1e-6)
        XCTAssertEqual(w[2], 0)
    }
}
