import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// What must hold across two hosts, on the two-node test cluster (Tests/Slurm/two-node-cluster: two
/// slurmd in network namespaces, each with its own hostname and address, sharing the file system):
/// MPI over TCP under srun and mpirun, parallel HDF5 from both hosts on one file, and the per-task
/// lock when the same shard is started on two hosts.
final class TwoNodeSlurmTests: XCTestCase {
    let timeout: TimeInterval = 120

    /// Runs a batch script on both nodes (one task each) and returns its output once it completed.
    func runOnBothNodes(_ slurm: LocalSlurm, _ dir: URL, _ body: String) throws -> String {
        let output = dir.appendingPathComponent("job.out")
        let id = try slurm.submit(script: "#!/bin/bash\nset -euo pipefail\nexport OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
                                      + body, arguments: ["--nodes=2", "--ntasks-per-node=1", "--output=\(output.path)"])
        let jobs = try slurm.waitForJobs([id], timeout: timeout)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? "(no output file)"
        XCTAssertEqual(jobs.first?.state, .completed, "\(jobs)\n\(log)")
        XCTAssertEqual(jobs.first?.exitCode, 0, "\(jobs)\n\(log)")
        return log
    }

    /// Each task runs on its own host (hostname, address); tessera-mpi-check (allreduce, broadcast,
    /// parallel HDF5 writes and reads of one file from both hosts) passes under srun with PMIx,
    /// mpirun inside the allocation, mpirun --host, and with the TCP interfaces named as the README
    /// tells users to; its timing pass reports the latency and bandwidth between the hosts.
    func testMPICheckAcrossTwoHostsUnderEveryLauncher() throws {
        let slurm = try LocalSlurm.twoNode()
        let dir = try TestEnvironment.temporaryDirectory(self, "two-node-mpi")
        let check = TestEnvironment.executable("tessera-mpi-check").path
        let (n1, n2) = (LocalSlurm.twoNodeNames[0], LocalSlurm.twoNodeNames[1])
        let log = try runOnBothNodes(slurm, dir, """
            srun --mpi=none bash -c 'echo "host $(hostname) $(ip -4 -o addr show eth0 | awk "{print \\$4}")"'
            echo "launcher srun"; srun --mpi=pmix \(check) --dir \(dir.path) --timing
            echo "launcher mpirun"; mpirun \(check) --dir \(dir.path)
            echo "launcher mpirun --host"; mpirun --host \(n1),\(n2) -np 2 \(check) --dir \(dir.path)
            echo "launcher mpirun tcp"
            OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=eth0 OMPI_MCA_oob_tcp_if_include=eth0 mpirun \(check) --dir \(dir.path)
            """)
        let hosts = log.split(separator: "\n").filter { $0.hasPrefix("host ") }.map(String.init).sorted()
        XCTAssertEqual(hosts, ["host \(n1) 10.213.1.11/24", "host \(n2) 10.213.1.12/24"], log)
        let ok = "tessera-mpi-check: OK: 2 ranks"
        XCTAssertEqual(log.components(separatedBy: ok).count - 1, 4, "expected \"\(ok)\" from each of 4 launches:\n\(log)")
        // The timing pass: one line per message size, latency and bandwidth positive and finite.
        let timings = log.split(separator: "\n").filter { $0.hasPrefix("tessera-mpi-check: allreduce ") }
        XCTAssertGreaterThanOrEqual(timings.count, 5, log)
        print("two-node MPI timing:\n" + timings.joined(separator: "\n"))
    }

    /// The same tiling shard started on two hosts: a lock left by a process on the other host is
    /// held (that process cannot be asked whether it lives), while the same lock on its own host,
    /// whose process is gone, is taken over and the shard completes.
    func testTaskLockHoldsAcrossHosts() throws {
        let slurm = try LocalSlurm.twoNode()
        let dir = try TestEnvironment.temporaryDirectory(self, "two-node-lock")
        let synth = try runCommand(TestEnvironment.executable("tessera-synth"),
                                   ["--out", dir.appendingPathComponent("cohort").path, "--patients", "2", "--width", "1024",
                                    "--height", "1024", "--seed", "5", "--tile-size", "256"])
        XCTAssertEqual(synth.status, 0, synth.output)
        let job = try SmallJobFile.write(in: dir, manifest: dir.appendingPathComponent("cohort/manifest.csv"))
        let store = dir.appendingPathComponent("store")
        let lock = store.appendingPathComponent("status/task-0000-of-0001.lock")
        try FileManager.default.createDirectory(at: lock.deletingLastPathComponent(), withIntermediateDirectories: true)
        // A pid that no process has: the owner on node 1 is gone.
        let owner = TaskLock(host: LocalSlurm.twoNodeNames[0], pid: 4_000_000)
        try owner.text.write(to: lock, atomically: true, encoding: .utf8)

        func tile(on node: String) throws -> (job: SlurmJob?, log: String) {
            let output = dir.appendingPathComponent("tile-\(node).out")
            let id = try slurm.submit(script: """
                #!/bin/bash
                exec \(TestEnvironment.executable("tessera-tile").path) --job \(job.path) --store \(store.path) --threads 1
                """, arguments: ["--nodelist=\(node)", "--chdir=\(dir.path)", "--output=\(output.path)"])
            let jobs = try slurm.waitForJobs([id], timeout: timeout)
            return (jobs.first, (try? String(contentsOf: output, encoding: .utf8)) ?? "(no output)")
        }
        let other = try tile(on: LocalSlurm.twoNodeNames[1])
        XCTAssertEqual(other.job?.exitCode, 1, "\(String(describing: other.job))\n\(other.log)")
        XCTAssertTrue(other.log.contains("is already running (pid 4000000 on \(LocalSlurm.twoNodeNames[0])"), other.log)
        XCTAssertEqual(try String(contentsOf: lock, encoding: .utf8), owner.text, "the refused run changed the lock")
        let written = FileManager.default.enumerator(atPath: store.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".h5") } ?? []
        XCTAssertEqual(written, [], "the refused run wrote tiles")

        let same = try tile(on: LocalSlurm.twoNodeNames[0])
        XCTAssertEqual(same.job?.state, .completed, "\(String(describing: same.job))\n\(same.log)")
        XCTAssertTrue(same.log.contains("taking over a stale lock") && same.log.contains("not running on this host"), same.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path), "the lock outlived its run")
    }

    /// A lock file's text as TaskLock writes it.
    struct TaskLock {
        let host: String
        let pid: Int
        var text: String { "{\"host\":\"\(host)\",\"pid\":\(pid),\"since\":\"2026-01-01T00:00:00Z\"}\n" }
    }
}
