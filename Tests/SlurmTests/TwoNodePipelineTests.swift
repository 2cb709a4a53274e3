import Foundation
import TesseraTestSupport
import XCTest

/// The demo pipeline through `Slurm/submit` on the two-node test cluster: the tiling and
/// prediction arrays spread over both hosts, training with one rank on each (`TRAIN_NODES=2`), and
/// every output checked as on one node.
final class TwoNodePipelineTests: XCTestCase {
    func testDemoPipelineSpreadOverTwoNodes() throws {
        let slurm = try LocalSlurm.twoNode()
        let work = try TestEnvironment.temporaryDirectory(self, "two-node-pipeline")
        let cohort = try SlurmPipeline.makeCohort(in: work)
        let pipeline = SlurmPipeline(slurm: slurm, work: work)
        let job = try pipeline.jobFile(manifest: cohort.appendingPathComponent("manifest.csv"), [("TRAIN_NODES", "2")])
        let ids = try pipeline.submit(job)
        let jobs = try pipeline.waitAndCheckOutputs(ids)

        let both = Set(LocalSlurm.twoNodeNames)
        func hosts(of stage: String) -> Set<String> {
            jobs.filter { $0.jobID == ids[stage] || $0.arrayJobID == ids[stage] }.reduce(into: Set<String>()) { $0.formUnion(Self.hosts($1.nodeList)) }
        }
        let placement = jobs.map { "\($0.displayID) on \($0.nodeList)" }.joined(separator: ", ")
        print("two-node pipeline: \(placement)")
        XCTAssertEqual(hosts(of: "tile"), both, placement)
        XCTAssertEqual(hosts(of: "predict"), both, placement)
        // The allocation of the training job holds both nodes, and srun starts one rank on each.
        XCTAssertEqual(hosts(of: "train"), both, placement)
    }

    /// The hosts of a Slurm node list: `tst-node1`, `tst-node[1-2]`, `tst-node[1,3-4]`.
    static func hosts(_ nodeList: String) -> Set<String> {
        guard let open = nodeList.firstIndex(of: "["), nodeList.hasSuffix("]") else { return nodeList.isEmpty ? [] : [nodeList] }
        let prefix = nodeList[..<open]
        var out = Set<String>()
        for part in nodeList[nodeList.index(after: open)..<nodeList.index(before: nodeList.endIndex)].split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first else { continue }
            for n in low...(bounds.last ?? low) { out.insert("\(prefix)\(n)") }
        }
        return out
    }
}
