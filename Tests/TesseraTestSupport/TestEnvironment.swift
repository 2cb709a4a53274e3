import Foundation
import XCTest

/// Where the tests find their inputs and the built executables.
public enum TestEnvironment {
    /// The package root (two levels above this file).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The real slides for wrapper tests: `$TESSERA_TEST_SLIDES`, default `../shared/slides` beside
    /// the checkout. Users do not have them; CI does.
    public static var slidesDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["TESSERA_TEST_SLIDES"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/slides")
    }

    /// True when CI asks for the real slides to be present (`TESSERA_REQUIRE_TEST_SLIDES=1`, set by
    /// `.ci/run`): their absence is then a failure, not a skip.
    public static var realSlidesRequired: Bool {
        ProcessInfo.processInfo.environment["TESSERA_REQUIRE_TEST_SLIDES"] == "1"
    }

    /// A real slide by file name. When the folder is absent the test is skipped with the reason
    /// (users who cloned only the repository), or fails where CI requires the slides.
    public static func realSlide(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let url = slidesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let slideAbsent = """
                The real test slide \(url.path) is absent. These tests need the folder of real slides \
                (cmu-1-small-region.svs, tcga-cr-7395-01a-01-ts1.svs, broken.svs): set TESSERA_TEST_SLIDES \
                to it (default ../shared/slides beside the checkout).
                """
            if realSlidesRequired {
                XCTFail(slideAbsent + " TESSERA_REQUIRE_TEST_SLIDES=1 makes this a failure.", file: file, line: line)
                throw CocoaError(.fileNoSuchFile)
            }
            throw XCTSkip(slideAbsent, file: file, line: line)
        }
        return url.path
    }

    /// The folder holding the built products (the test bundle sits beside them).
    public static var productsDirectory: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent()
    }

    public static func executable(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }

    /// A fresh temporary folder, removed when the test ends.
    public static func temporaryDirectory(_ test: XCTestCase, _ label: String = "tessera") throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

/// The result of running a command.
public struct CommandResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var output: String { stdout + stderr }
}

/// Runs a program to completion, capturing its output. `environment` entries are added to (or, with
/// nil, removed from) the test's own environment.
public func runCommand(_ executable: URL, _ arguments: [String], environment: [String: String?] = [:],
                       currentDirectory: URL? = nil, timeout: TimeInterval = 600) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    // A test process that initialised MPI itself would leak its launcher variables into children.
    for key in env.keys where key.hasPrefix("OMPI_MCA_") || key.hasPrefix("PMIX_") || key.hasPrefix("OMPI_COMM_") {
        env.removeValue(forKey: key)
    }
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
    final class Collected: @unchecked Sendable { var out = Data(), err = Data() }
    let collected = Collected()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { collected.out = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { collected.err = err.fileHandleForReading.readDataToEndOfFile() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning {
        // SIGTERM, then SIGKILL; never block on a child that will not die.
        process.terminate()
        let killAt = Date().addingTimeInterval(5)
        while process.isRunning && Date() < killAt { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(executable.lastPathComponent) timed out after \(timeout)s"])
    }
    process.waitUntilExit()
    group.wait()
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: collected.out, as: UTF8.self),
                         stderr: String(decoding: collected.err, as: UTF8.self))
}

/// `mpirun` with what this project's machines need: root allowed, oversubscription for more ranks
/// than cores.
public func runMPI(ranks: Int, _ executable: URL, _ arguments: [String], timeout: TimeInterval = 300) throws -> CommandResult {
    let mpirun = URL(fileURLWithPath: "/usr/bin/mpirun")
    return try runCommand(mpirun, ["--oversubscribe", "-np", "\(ranks)", executable.path] + arguments,
                          environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"],
                          timeout: timeout)
}
