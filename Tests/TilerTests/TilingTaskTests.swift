import Foundation
import TaskRunner
import TesseraCore
import TesseraTestSupport
import TileStore
import Tiler
import XCTest

/// The tiling task's skeleton end to end: one process per task, failed slides retried, environment
/// failures fatal, leftovers of killed runs removed.
extension TilerEndToEndTests {
    var lockName: String { "status/task-0000-of-0001.lock" }

    func assertSameTiles(_ reference: URL, _ store: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try contents(of: reference), b = try contents(of: store)
        XCTAssertFalse(a.tiles.isEmpty, file: file, line: line)
        XCTAssertEqual(Set(a.tiles.keys), Set(b.tiles.keys), file: file, line: line)
        for (k, v) in a.tiles where v != b.tiles[k] { XCTFail("tile \(k) differs", file: file, line: line) }
        XCTAssertEqual(a.slides, b.slides, file: file, line: line)
    }

    /// A second process on a running task's shard (a requeued Slurm task, a re-submission) says so
    /// and exits 1 without touching anything; the first finishes with every slide.
    func testSecondProcessOnARunningTaskRefusesAndTheFirstFinishesUndisturbed() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let args = ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--tile-size", "256", "--assume-mpp", "0.5", "--threads", "1"]
        let reference = dir.appendingPathComponent("reference"), store = dir.appendingPathComponent("store")
        XCTAssertEqual(try tile(args + ["--store", reference.path]).status, 0)

        let first = Process()
        first.executableURL = TestEnvironment.executable("tessera-tile")
        first.arguments = args + ["--store", store.path]
        first.standardError = FileHandle.nullDevice
        try first.run()
        // Hold the first process still once it has the lock, so it is certainly running meanwhile.
        let lock = store.appendingPathComponent(lockName)
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: lock.path) && first.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        kill(first.processIdentifier, SIGSTOP)
        XCTAssertTrue(first.isRunning, "the first process ended before the second started")
        let statusBefore = try? Data(contentsOf: store.appendingPathComponent("status/task-0000-of-0001.json"))
        let second = try tile(args + ["--store", store.path])
        let statusAfter = try? Data(contentsOf: store.appendingPathComponent("status/task-0000-of-0001.json"))
        kill(first.processIdentifier, SIGCONT)
        first.waitUntilExit()

        XCTAssertEqual(second.status, 1, second.output)
        XCTAssertTrue(second.stderr.contains("task 0 of 1 is already running (pid \(first.processIdentifier) on \(TaskLock.hostName), since "),
                      second.stderr)
        XCTAssertEqual(statusBefore, statusAfter, "the second process changed the first's status")
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.appendingPathComponent("failures/task-0000-of-0001.csv").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path), "the lock is removed at the end")
        try assertSameTiles(reference, store)
    }

    /// A task ended by SIGTERM (Slurm's time limit, scancel) removes its lock as it dies, so that a
    /// re-submitted task on any node starts at once.
    func testTerminatedTaskRemovesItsLock() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let store = dir.appendingPathComponent("store")
        let args = ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path, "--tile-size", "256",
                    "--assume-mpp", "0.5", "--threads", "1"]
        let process = Process()
        process.executableURL = TestEnvironment.executable("tessera-tile")
        process.arguments = args
        process.standardError = FileHandle.nullDevice
        try process.run()
        let lock = store.appendingPathComponent(lockName)
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: lock.path) && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        // The lock file appears just before its owner installs the signal handlers.
        while (try? Data(contentsOf: lock))?.isEmpty ?? true, process.isRunning { Thread.sleep(forTimeInterval: 0.005) }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertTrue(process.isRunning, "the task ended before it could be terminated")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGTERM)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path))
        let resumed = try tile(args)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertFalse(resumed.stderr.contains("stale lock"), resumed.stderr)
    }

    /// A lock left by a process that is gone (killed, node rebooted) is taken over with a log line.
    func testStaleLockOfADeadProcessIsTakenOver() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let store = dir.appendingPathComponent("store")
        let dead = try TaskRunnerTests.deadPID()
        try TaskRunnerTests.writeLock(store.appendingPathComponent(lockName), host: TaskLock.hostName, pid: dead)
        let r = try tile(["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path,
                          "--tile-size", "256", "--assume-mpp", "0.5"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.stderr.contains("taking over a stale lock") && r.stderr.contains("pid \(dead) on \(TaskLock.hostName)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.appendingPathComponent(lockName).path))
    }

    /// A slide that failed (here: its file was missing for a while) is tiled by the next run,
    /// unless --no-retry-failed; the store then equals one tiled in one go.
    func testFailedSlideIsRetriedByTheNextRun() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let slides = cohort.appendingPathComponent("slides")
        let names = try FileManager.default.contentsOfDirectory(atPath: slides.path).filter { $0.hasSuffix(".svs") }.sorted()
        let flaky = dir.appendingPathComponent("flaky.svs")
        let manifest = dir.appendingPathComponent("m.csv")
        try Data("""
            slide_path,slide_id,patient_id,label
            \(slides.appendingPathComponent(names[0]).path),GOOD-1,P1,LUAD
            \(flaky.path),FLAKY,P2,LUSC
            \(slides.appendingPathComponent(names[2]).path),GOOD-2,P3,LUSC

            """.utf8).write(to: manifest)
        let args = ["--manifest", manifest.path, "--tile-size", "256", "--assume-mpp", "0.5", "--split", "1,0,0", "--skip-missing"]
        try FileManager.default.copyItem(at: slides.appendingPathComponent(names[1]), to: flaky)
        let reference = dir.appendingPathComponent("reference"), store = dir.appendingPathComponent("store")
        XCTAssertEqual(try tile(args + ["--store", reference.path]).status, 0)

        try FileManager.default.moveItem(at: flaky, to: dir.appendingPathComponent("away.svs"))
        let failed = try tile(args + ["--store", store.path])
        XCTAssertEqual(failed.status, 3, failed.output)
        let failures = store.appendingPathComponent("failures/task-0000-of-0001.csv")
        XCTAssertEqual(try CSV.parse(String(contentsOf: failures, encoding: .utf8)).dropFirst().map { $0.fields[0] }, ["FLAKY"])
        // The merged slides' fragments are not kept twice meanwhile: a retry carries the part file.
        let work = store.appendingPathComponent(".work/task-0000-of-0001")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("away.svs"), to: flaky)

        // --no-retry-failed (here from a job file): as before, the slide stays failed.
        let job = dir.appendingPathComponent("job.env")
        try Data("NO_RETRY_FAILED=1\n".utf8).write(to: job)
        let kept = try tile(args + ["--store", store.path, "--job", job.path])
        XCTAssertEqual(kept.status, 3, kept.output)
        XCTAssertTrue(kept.stderr.contains("already complete"), kept.stderr)
        XCTAssertEqual(try CSV.parse(String(contentsOf: failures, encoding: .utf8)).dropFirst().map { $0.fields[0] }, ["FLAKY"])
        XCTAssertEqual(Set(try contents(of: store).slides.keys), ["GOOD-1", "GOOD-2"])

        // By default the next run tiles it, without tiling the others again.
        let retried = try tile(args + ["--store", store.path])
        XCTAssertEqual(retried.status, 0, retried.output)
        XCTAssertTrue(retried.stderr.contains("retrying 1 slide that failed before (FLAKY)"), retried.stderr)
        XCTAssertTrue(retried.stderr.contains("resuming: 2 slides already done"), retried.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: failures.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path))
        try assertSameTiles(reference, store)
        XCTAssertEqual(try runCommand(TestEnvironment.executable("tessera-audit"), [store.path]).status, 0)
    }

    /// A task killed after its status said complete but before it removed its work folder: the
    /// next run removes the folder (and a killed writer's temporaries).
    func testLeftoversOfAFinishedTaskAreRemovedByTheNextRun() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let store = dir.appendingPathComponent("store")
        let args = ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path, "--tile-size", "256", "--assume-mpp", "0.5"]
        XCTAssertEqual(try tile(args).status, 0)
        let work = store.appendingPathComponent(".work/task-0000-of-0001")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try Data(count: 4096).write(to: work.appendingPathComponent("S-1.h5"))
        let dead = try TaskRunnerTests.deadPID()
        let temporary = store.appendingPathComponent("train/.part-0000-of-0001.h5.tmp-\(dead)")
        try Data(count: 4096).write(to: temporary)
        let again = try tile(args)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.stderr.contains("already complete"), again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path), again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary.path))
    }

    /// Tiling onto a file system that fills up: the task stops at once with exit 1 naming the
    /// folder and the cause (no slide recorded as failed, no crash at exit), and once space is
    /// freed the next run tiles every slide. Needs root to mount a small tmpfs.
    func testFullDiskStopsTheTaskAndTheNextRunFinishesIt() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to mount a small tmpfs") }
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let mount = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try runCommand(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=32M", "tmpfs", mount.path])
        guard mounted.status == 0 else { throw XCTSkip("needs root and mount to test a full disk: \(mounted.output)") }
        defer { _ = try? runCommand(URL(fileURLWithPath: "/bin/umount"), [mount.path]) }
        let args = ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--tile-size", "256", "--assume-mpp", "0.5",
                    "--encoding", "raw", "--threads", "1"]
        let reference = dir.appendingPathComponent("reference"), store = mount.appendingPathComponent("store")
        XCTAssertEqual(try tile(args + ["--store", reference.path]).status, 0)

        // Leave about 600 KB free: enough to start, not for the store (8 MB of raw tiles, 192 KB each).
        let filler = mount.appendingPathComponent("filler")
        try Data(count: 32 * 1024 * 1024 - 600 * 1024).write(to: filler)
        let full = try tile(args + ["--store", store.path])
        XCTAssertEqual(full.status, 1, full.output)
        XCTAssertTrue(full.stderr.contains("\(store.path): cannot write: No space left on device (ENOSPC)"), full.stderr)
        XCTAssertFalse(full.stderr.contains("FAILED"), "a healthy slide was recorded as failed:\n\(full.stderr)")
        if let data = try? Data(contentsOf: store.appendingPathComponent("status/task-0000-of-0001.json")) {
            let status = try JSONKeyStyle.snakeCase.decoder().decode(TaskStatus.self, from: data)
            XCTAssertEqual(status.failedItems, [])
            XCTAssertFalse(status.complete)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.appendingPathComponent(lockName).path))

        try FileManager.default.removeItem(at: filler)
        let rerun = try tile(args + ["--store", store.path])
        XCTAssertEqual(rerun.status, 0, rerun.output)
        try assertSameTiles(reference, store)
    }
}
