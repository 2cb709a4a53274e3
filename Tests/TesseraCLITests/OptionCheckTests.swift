import ArgumentParser
import Foundation
import TesseraCLI
import XCTest

/// The shared checks of numeric and list options every program's validate() uses.
final class OptionCheckTests: XCTestCase {
    func testNumbersMustBeFiniteAndInRange() {
        for bad: Double in [.infinity, -.infinity, .nan, 1e300, 1e-300, 0, -1] {
            XCTAssertNotNil(OptionCheck.number("--mpp", bad, in: OptionCheck.micronsPerPixel, example: "0.5"), "\(bad)")
        }
        XCTAssertEqual(OptionCheck.number("--mpp", Double.infinity, in: OptionCheck.micronsPerPixel, example: "0.5"),
                       "--mpp must be a number in [0.025, 100], e.g. 0.5; got inf")
        XCTAssertEqual(OptionCheck.number("--learning-rate", -1.0, in: .above(0), example: "0.1"),
                       "--learning-rate must be a finite number > 0, e.g. 0.1; got -1.0")
        for good in [0.025, 0.25, 0.5, 100] { XCTAssertNil(OptionCheck.number("--mpp", good, in: OptionCheck.micronsPerPixel, example: "")) }
        XCTAssertNil(OptionCheck.number("--mpp", nil as Double?, in: OptionCheck.micronsPerPixel, example: ""))
        XCTAssertNil(OptionCheck.number("--magnification", 20.0, in: OptionCheck.magnification, example: ""))
        XCTAssertNil(OptionCheck.number("--learning-rate", 1e30, in: .above(0), example: ""))
        XCTAssertEqual(OptionCheck.integer("--threads", 0, in: 1...1024), "--threads must be 1…1024; got 0")
    }

    func testListsTakeExactlyTheirFields() {
        XCTAssertEqual(OptionCheck.numbers("0.7, 0.15,0.15", count: 3, in: .closed(0, 1)), [0.7, 0.15, 0.15])
        for junk in ["0.7,0.15,0.15,junk", "0.7,,0.15,0.15", "0.7,0.15", "0.7,0.15,x", "nan,0.1,0.1", "inf,0,0", "0.5,0.5,2", ""] {
            XCTAssertNil(OptionCheck.numbers(junk, count: 3, in: .closed(0, 1)), junk)
        }
    }

    func testNamesAreDistinctNonEmptyAndSafeInSpreadsheets() {
        XCTAssertNil(OptionCheck.names("--classes", "LUAD,LUSC,normal"))
        XCTAssertEqual(OptionCheck.names("--classes", "LUAD,LUSC,LUAD"), "--classes names LUAD twice; give each class once")
        XCTAssertNotNil(OptionCheck.names("--classes", "LUAD,,normal"))
        XCTAssertNotNil(OptionCheck.names("--classes", ""))
        XCTAssertTrue(OptionCheck.names("--classes", "LUAD,=cmd")?.contains("formula") ?? false)
    }

    func testIsFolderTellsFoldersFromFilesAndNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("option-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("manifest.csv")
        try Data("slide_path\n".utf8).write(to: file)
        XCTAssertTrue(OptionCheck.isFolder(folder.path))
        XCTAssertFalse(OptionCheck.isFolder(file.path))
        XCTAssertFalse(OptionCheck.isFolder(folder.appendingPathComponent("missing").path))
    }

    /// The messages of the path options name the option, the path and the fix; a path that is
    /// what it should be, or an option not given, passes.
    func testPathOptionsNameTheOptionThePathAndTheFix() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("option-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("manifest.csv"), missing = folder.appendingPathComponent("missing").path
        try Data("slide_path\n".utf8).write(to: file)
        XCTAssertNil(OptionCheck.folder("--store", folder.path, fix: "run tessera-tile first"))
        XCTAssertNil(OptionCheck.folder("--store", nil))
        XCTAssertEqual(OptionCheck.folder("--store", file.path, fix: "run tessera-tile first"),
                       "--store \(file.path) is not a folder; run tessera-tile first")
        XCTAssertEqual(OptionCheck.folder("--features", missing), "--features \(missing) is not a folder")
        XCTAssertNil(OptionCheck.readableFile("--manifest", file.path))
        XCTAssertNil(OptionCheck.readableFile("--manifest", nil))
        XCTAssertEqual(OptionCheck.readableFile("--manifest", missing), "--manifest \(missing) does not exist or is not readable")
        XCTAssertEqual(OptionCheck.readableFile("--model", missing, fix: "pass the model.tsm written by tessera-train"),
                       "--model \(missing) does not exist or is not readable; pass the model.tsm written by tessera-train")
    }

    /// The one ending every program shares: a chosen exit status passes through, any other error is 1.
    func testExitingOnErrorKeepsChosenStatusesAndMakesOtherErrorsFailure() {
        struct Broken: Error {}
        XCTAssertNoThrow(try ExitStatus.exitingOnError {})
        XCTAssertThrowsError(try ExitStatus.exitingOnError { throw ExitStatus.doneWithFailedSlides.exitCode }) {
            XCTAssertEqual(($0 as? ExitCode)?.rawValue, 3)
        }
        XCTAssertThrowsError(try ExitStatus.exitingOnError { throw Broken() }) {
            XCTAssertEqual(($0 as? ExitCode)?.rawValue, 1)
        }
    }
}
