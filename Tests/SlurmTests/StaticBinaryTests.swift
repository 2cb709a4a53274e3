import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// The programs users deploy (`Jobs/build`: release, `--static-swift-stdlib`; tier `deploy`, which
/// builds them first) carry the Swift
/// runtime inside: `ldd` lists only system libraries, and each runs with the toolchain's library
/// folder hidden (an empty tmpfs mounted over it in a private mount namespace), where the test
/// build's programs cannot even start.
final class StaticBinaryTests: XCTestCase {
    /// The toolchain's runtime folder, e.g. /opt/swift/usr/lib/swift/linux.
    func toolchainLibraries() throws -> URL {
        let which = try runCommand(URL(fileURLWithPath: "/bin/sh"), ["-c", "readlink -f \"$(command -v swift)\""])
        let swift = which.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(which.status, 0, which.output)
        let folder = URL(fileURLWithPath: swift).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("lib/swift/linux")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: folder.appendingPathComponent("libswiftCore.so").path),
                          "no libswiftCore.so in \(folder.path): not a Linux toolchain layout")
        return folder
    }

    /// Runs `program arguments` with `hidden` covered by an empty folder; nil when this machine
    /// does not allow a private mount namespace (not root).
    func runHiding(_ hidden: URL, _ program: URL, _ arguments: [String]) throws -> CommandResult? {
        let script = "mount -t tmpfs tessera-hidden \"$0\" || exit 99; exec \"$@\""
        let r = try runCommand(URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "/bin/sh", "-c", script, hidden.path, program.path] + arguments,
                               environment: ["LD_LIBRARY_PATH": String?.none], timeout: 60)
        return r.status == 99 || r.stderr.contains("unshare failed") ? nil : r
    }

    func testDeployedProgramsRunWithoutTheSwiftToolchain() throws {
        let root = TestEnvironment.packageRoot
        let toolchain = try toolchainLibraries()
        // Built by `Jobs/test deploy` before the tests run (a build from inside `swift test` would
        // wait for the lock that `swift test` holds on .build).
        let bin = URL(fileURLWithPath: ProcessInfo.processInfo.environment["TESSERA_DEPLOY_BIN"]
            ?? root.appendingPathComponent(".build/release").path)

        // Every executable target of Package.swift was built.
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let expected = manifest.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: ".executableTarget(name: \"") else { return nil }
            return line[r.upperBound...].split(separator: "\"").first.map(String.init)
        }
        XCTAssertGreaterThanOrEqual(expected.count, 8, "\(expected)")

        let runtime = ["libswift", "libFoundation", "lib_FoundationICU", "libdispatch", "libBlocksRuntime"]
        var masked = 0
        for name in expected {
            let program = bin.appendingPathComponent(name)
            guard FileManager.default.isExecutableFile(atPath: program.path) else {
                XCTFail("\(program.path) is missing: build with bash Jobs/build (bash Jobs/test deploy does)")
                continue
            }
            let ldd = try runCommand(URL(fileURLWithPath: "/usr/bin/ldd"), [program.path])
            XCTAssertEqual(ldd.status, 0, ldd.output)
            for line in ldd.stdout.split(separator: "\n") {
                XCTAssertFalse(runtime.contains { line.contains($0) } || line.contains(toolchain.path), "\(name) loads \(line)")
            }
            // Only Debian's C libraries (OpenSlide, HDF5, MPI…) stay dynamic, from the system's folders.
            XCTAssertTrue(ldd.stdout.contains("libc.so.6"), ldd.stdout)
            if let r = try runHiding(toolchain, program, ["--version"]) {
                XCTAssertEqual(r.status, 0, "\(name) without the toolchain: \(r.output)")
                // This checkout's build, not a stale one.
                XCTAssertEqual(r.stdout, "\(name) \(TesseraVersion.current)\n", "\(name): rebuild with bash Jobs/build")
                masked += 1
            }
        }
        try XCTSkipIf(masked == 0, "no private mount namespace here (needs root): checked ldd only")
        // The hiding works: the test build's program (Swift runtime from the toolchain) cannot start.
        let dynamic = try XCTUnwrap(try runHiding(toolchain, TestEnvironment.executable("tessera-audit"), ["--version"]))
        XCTAssertNotEqual(dynamic.status, 0, dynamic.output)
        XCTAssertTrue(dynamic.stderr.contains("error while loading shared libraries"), dynamic.output)
    }
}
