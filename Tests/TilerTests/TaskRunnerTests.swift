import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

@testable import TaskRunner

/// The shared task skeleton's pieces on their own: the lock and the environment-failure classification.
final class TaskRunnerTests: XCTestCase {
    /// A pid that certainly belongs to no process: one of a child that has exited and been reaped.
    static func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    static func writeLock(_ url: URL, host: String, pid: Int32, modified: Date? = nil) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let owner = TaskLock.Owner(host: host, pid: pid, since: "2026-01-01T00:00:00Z")
        try JSONEncoder().encode(owner).write(to: url)
        if let modified { try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path) }
    }

    func testALiveLockIsRefusedAndReleasedOnlyByItsOwner() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "lock")
        let url = dir.appendingPathComponent("task.lock")
        let lock = try TaskLock.acquire(url, task: "task 2 of 4")
        XCTAssertEqual(TaskLock.readOwner(url), lock.owner)
        XCTAssertEqual(lock.owner.pid, getpid())
        XCTAssertThrowsError(try TaskLock.acquire(url, task: "task 2 of 4")) { error in
            let held = error as? TaskLock.Held
            XCTAssertEqual(held?.owner?.pid, getpid())
            XCTAssertTrue("\(error)".contains("task 2 of 4 is already running (pid \(getpid()) on \(TaskLock.hostName), since "), "\(error)")
        }
        // The lock is made by linking a written draft to its name: nothing but the lock is left
        // beside it, after taking it and after being refused.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["task.lock"])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: url.path)[.referenceCount] as? Int, 1)
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        // Another live process's fresh lock on another host is held too.
        try Self.writeLock(url, host: "some-other-node", pid: 1)
        XCTAssertThrowsError(try TaskLock.acquire(url, task: "t")) { XCTAssertTrue($0 is TaskLock.Held, "\($0)") }
    }

    func testStaleLocksAreTakenOver() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "lock")
        let url = dir.appendingPathComponent("task.lock")
        // A dead pid on this host, however recent.
        try Self.writeLock(url, host: TaskLock.hostName, pid: try Self.deadPID())
        let a = try TaskLock.acquire(url, task: "t")
        XCTAssertEqual(TaskLock.readOwner(url)?.pid, getpid())
        a.release()
        // Another host, no heartbeat for longer than staleAfter.
        try Self.writeLock(url, host: "some-other-node", pid: 1, modified: Date().addingTimeInterval(-TaskLock.staleAfter - 60))
        let b = try TaskLock.acquire(url, task: "t")
        XCTAssertEqual(TaskLock.readOwner(url)?.host, TaskLock.hostName)
        b.release()
    }

    func testEnvironmentFailuresAreRecognisedByErrnoWhereverTheyComeFrom() throws {
        let store = URL(fileURLWithPath: "/scratch/store")
        XCTAssertEqual(EnvironmentFailure(classifying: POSIXError(.ENOSPC), folder: store)?.code, ENOSPC)
        XCTAssertEqual(EnvironmentFailure(classifying: CocoaError(.fileWriteOutOfSpace), folder: store)?.code, ENOSPC)
        XCTAssertEqual(EnvironmentFailure(classifying: NSError(domain: NSPOSIXErrorDomain, code: Int(EDQUOT)), folder: store)?.code, EDQUOT)
        let wrapped = NSError(domain: NSCocoaErrorDomain, code: 512, userInfo: [NSUnderlyingErrorKey: POSIXError(.EROFS)])
        XCTAssertEqual(EnvironmentFailure(classifying: wrapped, folder: store)?.code, EROFS)
        // HDF5's error stack, as TileStoreError quotes it.
        let hdf5 = TesseraError.io(path: "/scratch/store/.work/x.h5", message: "HDF5 H5Dwrite failed: H5Dwrite(): can't write data "
            + "(cause: H5FD_sec2_write(): file write failed: time = Tue Dec  1, filename = 'x', file descriptor = 5, errno = 28, "
            + "error message = 'No space left on device', buf = 0x1)", hint: "")
        XCTAssertEqual(EnvironmentFailure(classifying: hdf5, folder: store)?.code, ENOSPC)
        XCTAssertEqual(EnvironmentFailure(classifying: TesseraError.io(path: "p", message: "cannot rename: Input/output error", hint: ""),
                                          folder: store)?.code, EIO)
        // Not environment failures: a missing file, a permission problem, a bad slide.
        XCTAssertNil(EnvironmentFailure(classifying: POSIXError(.ENOENT), folder: store))
        XCTAssertNil(EnvironmentFailure(classifying: CocoaError(.fileWriteNoPermission), folder: store))
        XCTAssertNil(EnvironmentFailure(classifying: TesseraError.invalidInput(path: "a.svs", message: "errno = 2", hint: ""), folder: store))
        let message = "\(EnvironmentFailure(classifying: POSIXError(.ENOSPC), folder: store)!)"
        XCTAssertTrue(message.hasPrefix("/scratch/store: cannot write: No space left on device (ENOSPC)"), message)
    }

    /// Each environment errno is named in the cause and gets its own fix in the hint; EIO and codes
    /// outside the list get the generic one.
    func testEnvironmentFailuresNameTheirErrnoAndTheFix() {
        let cases: [(Int32, String, String)] = [
            (ENOSPC, "(ENOSPC)", "hint: free space on that file system (or use another folder)"),
            (EDQUOT, "(EDQUOT)", "hint: free space within your quota (or ask for more)"),
            (EROFS, "(EROFS)", "hint: write to a writable folder, or have the file system remounted read-write"),
            (EIO, "(EIO)", "hint: check the file system (dmesg, the admins)"),
            (EPERM, "(errno \(EPERM))", "hint: check the file system (dmesg, the admins)"),
        ]
        for (code, name, hint) in cases {
            let failure = EnvironmentFailure(folder: "/scratch/store", code: code, detail: "writing x.h5")
            XCTAssertEqual(failure.cause, "\(String(cString: strerror(code))) \(name)")
            XCTAssertTrue(failure.description.contains(hint), failure.description)
            XCTAssertTrue(failure.description.hasSuffix("run the task again; finished items are kept and the task resumes where it stopped"))
        }
    }

    func testTheStopAfterHookStopsOnceThatManyItemsAreDone() {
        var share = TaskShare()
        XCTAssertFalse(share.stops(after: 1_000, unit: "slides", option: "--stop-after-slides"), "nil runs to the end")
        share.stopAfter = 2
        XCTAssertEqual([0, 1, 2, 3].map { share.stops(after: $0, unit: "slides", option: "--stop-after-slides") }, [false, false, true, true])
        share.stopAfter = 0
        XCTAssertTrue(share.stops(after: 0, unit: "store files", option: "--stop-after-files"), "0 stops before the first item")
    }
}
