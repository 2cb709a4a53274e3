import Foundation
import TesseraTestSupport
import XCTest

/// The local single-node Slurm (Tests/Slurm/local-cluster) does what Tessera's job scripts rely on:
/// arrays, dependencies, failures that end their dependants, MPI, cancellation. Every job is tiny
/// and every wait is bounded, so a broken Slurm fails these tests instead of hanging them.
final class LocalSlurmSmokeTests: XCTestCase {
    /// Generous for jobs that take about a second: submit-to-start is ≤ 1 s, a dependency hop ~1 s.
    let timeout: TimeInterval = 30

    func testArrayTasksEachRunWithTheirIndexAndOutputFile() throws {
        let slurm = try LocalSlurm.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "slurm-array")
        let id = try slurm.submit(script: """
            #!/bin/bash
            echo "task=$SLURM_ARRAY_TASK_ID count=$SLURM_ARRAY_TASK_COUNT array=$SLURM_ARRAY_JOB_ID job=$SLURM_JOB_ID"
            """, arguments: ["--array=0-2", "--output=\(dir.path)/array-%A_%a.out"])

        let tasks = try slurm.waitForJobs([id], timeout: timeout)
        XCTAssertEqual(tasks.map(\.arrayTaskID), [0, 1, 2], "\(tasks)")
        for task in tasks {
            XCTAssertEqual(task.arrayJobID, id)
            XCTAssertEqual(task.state, .completed, "\(task)")
            XCTAssertEqual(task.exitCode, 0, "\(task)")
            let index = try XCTUnwrap(task.arrayTaskID)
            let output = try String(contentsOf: dir.appendingPathComponent("array-\(id)_\(index).out"), encoding: .utf8)
            XCTAssertEqual(output, "task=\(index) count=3 array=\(id) job=\(task.jobID)\n")
        }
    }

    func testAfterOkDependantStartsOnlyAfterItsDependencySucceeded() throws {
        let slurm = try LocalSlurm.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "slurm-chain")
        let first = try slurm.submit(script: """
            #!/bin/bash
            sleep 1
            echo first > \(dir.path)/first.done
            """, arguments: ["--output=/dev/null"])
        let second = try slurm.submit(script: """
            #!/bin/bash
            test -f \(dir.path)/first.done || exit 7
            echo second > \(dir.path)/second.done
            """, arguments: ["--output=/dev/null", "--dependency=afterok:\(first)"])

        let jobs = try slurm.waitForJobs([first, second], timeout: timeout)
        XCTAssertEqual(jobs.map(\.state), [.completed, .completed], "\(jobs)")
        XCTAssertEqual(jobs.map(\.exitCode), [0, 0], "\(jobs)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("second.done").path))
    }

    /// A failed job's afterok dependant is cancelled, not left pending forever (kill_invalid_depend),
    /// and both are recorded in the jobcomp file, the fallback for jobs the controller has forgotten.
    func testFailedJobReportsItsExitCodeAndCancelsItsAfterOkDependant() throws {
        let slurm = try LocalSlurm.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "slurm-fail")
        let failing = try slurm.submit(script: "#!/bin/bash\nexit 3\n", arguments: ["--output=/dev/null"])
        let dependant = try slurm.submit(script: "#!/bin/bash\ntouch \(dir.path)/dependant.ran\n",
                                         arguments: ["--output=/dev/null", "--dependency=afterok:\(failing)"])

        let jobs = try slurm.waitForJobs([failing, dependant], timeout: timeout)
        XCTAssertEqual(jobs.count, 2, "\(jobs)")
        XCTAssertEqual(jobs.first?.state, .failed, "\(jobs)")
        XCTAssertEqual(jobs.first?.exitCode, 3, "\(jobs)")
        XCTAssertEqual(jobs.last?.state, .cancelled, "\(jobs)")
        XCTAssertEqual(jobs.last?.reason, "DependencyNeverSatisfied", "\(jobs)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("dependant.ran").path))

        // The jobcomp line is written as the job ends; allow the controller a moment.
        var recorded: [SlurmJob] = []
        for _ in 0..<50 {
            recorded = slurm.completedJobs().filter { $0.jobID == failing || $0.jobID == dependant }
            if recorded.count == 2 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let byID = Dictionary(recorded.map { ($0.jobID, $0) }, uniquingKeysWith: { $1 })
        XCTAssertEqual(byID[failing]?.state, .failed, "\(recorded)")
        XCTAssertEqual(byID[failing]?.exitCode, 3, "\(recorded)")
        XCTAssertEqual(byID[dependant]?.state, .cancelled, "\(recorded)")
    }

    /// tessera-mpi-check (collectives and parallel HDF5 on every rank) in a 2-task allocation, under
    /// both launchers: mpirun (which must pick up the allocation's 2 ranks by itself) and srun with PMIx.
    func testMPIJobRunsUnderMpirunAndSrun() throws {
        let slurm = try LocalSlurm.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "slurm-mpi")
        let check = TestEnvironment.executable("tessera-mpi-check").path
        let output = dir.appendingPathComponent("mpi.out")
        let id = try slurm.submit(script: """
            #!/bin/bash
            set -euo pipefail
            export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
            echo "mpirun:"
            mpirun \(check) --dir \(dir.path)
            echo "srun:"
            srun --mpi=pmix \(check) --dir \(dir.path)
            """, arguments: ["--ntasks=2", "--output=\(output.path)"])

        let jobs = try slurm.waitForJobs([id], timeout: 60)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? "(no output file)"
        XCTAssertEqual(jobs.first?.state, .completed, "\(jobs)\n\(log)")
        XCTAssertEqual(jobs.first?.exitCode, 0, "\(jobs)\n\(log)")
        let ok = "tessera-mpi-check: OK: 2 ranks"
        XCTAssertEqual(log.components(separatedBy: ok).count - 1, 2, "expected \"\(ok)\" from each launcher:\n\(log)")
    }

    func testScancelEndsARunningJobAndItsProcesses() throws {
        let slurm = try LocalSlurm.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "slurm-cancel")
        let started = dir.appendingPathComponent("started")
        let id = try slurm.submit(script: "#!/bin/bash\ntouch \(started.path)\nsleep 300\n", arguments: ["--output=/dev/null"])
        try slurm.waitUntilRunning(id, timeout: timeout)
        // Cancel once the script is really running (not as it forks: pitfall 22).
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: started.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: started.path), "the job never ran its script")

        try slurm.cancel([id])
        let jobs = try slurm.waitForJobs([id], timeout: timeout)
        XCTAssertEqual(jobs.first?.state, .cancelled, "\(jobs)")

        // KillWait is 5 s; the script and its sleep must be gone well before the 300 s.
        var left = slurm.processes(ofJob: id)
        for _ in 0..<100 where !left.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            left = slurm.processes(ofJob: id)
        }
        XCTAssertEqual(left, [], "processes of cancelled job \(id) are still running")
    }

    /// `up` on a healthy cluster changes nothing; `status` says it is healthy.
    func testUpAgainWhileHealthyIsANoOp() throws {
        let slurm = try LocalSlurm.shared()
        let pidFile = slurm.directory.appendingPathComponent("run/slurmctld.pid")
        let before = try String(contentsOf: pidFile, encoding: .utf8)
        let up = try slurm.runScript("up")
        XCTAssertEqual(up.status, 0, up.output)
        XCTAssertTrue(up.stderr.contains("already up"), up.output)
        XCTAssertEqual(try String(contentsOf: pidFile, encoding: .utf8), before, "slurmctld was restarted")
        let status = try slurm.runScript("status")
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.stdout.contains("healthy: yes"), status.output)
    }
}
