import ArgumentParser
import NeuralNet
import TesseraCLI
import TesseraCore
import TileStore
import XCTest

/// The pieces every program shares: exit statuses, the task option group, the typed option values.
final class CommandLineLayerTests: XCTestCase {
    func testExitStatusesAreTheDocumentedNumbers() {
        XCTAssertEqual(ExitStatus.allCases.map(\.rawValue), [0, 1, 3, 64, 75])
        // A ValidationError from any program's parser exits with the same status as `.usage`.
        XCTAssertEqual(ExitStatus.usage.exitCode, ExitCode.validationFailure)
        XCTAssertEqual(ExitStatus.doneWithFailedSlides.exitCode, ExitCode(3))
    }

    func testTaskOptionsResolveAndRefuseShards() throws {
        let options = try TaskOptions.parse(["--shard", "2", "--shards", "8", "--threads", "3", "--strict", "--force"])
        XCTAssertEqual(options.resolvedShard, 2)
        XCTAssertEqual(options.resolvedShards, 8)
        XCTAssertEqual(options.resolvedThreads, 3)
        XCTAssertTrue(options.force)
        XCTAssertFalse(options.noRetryFailed)
        XCTAssertEqual(options.doneWithFailedSlides, .failure, "--strict turns failed slides into exit 1")
        XCTAssertEqual(try TaskOptions.parse([]).doneWithFailedSlides, .doneWithFailedSlides)
        let cases: [([String], String)] = [
            (["--shard", "3", "--shards", "3"], "--shard 3 is outside 0…2"),
            (["--shards", "0"], "--shards must be ≥ 1"),
            (["--threads", "2000"], "--threads must be 1…1024; got 2000"),
        ]
        for (arguments, message) in cases {
            XCTAssertThrowsError(try TaskOptions.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue(TaskOptions.message(for: error).hasPrefix(message), TaskOptions.message(for: error))
                XCTAssertEqual(TaskOptions.exitCode(for: error), ExitCode(64))
            }
        }
    }

    /// The typed option values name exactly what the libraries accept.
    func testOptionChoicesMatchTheLibraries() throws {
        XCTAssertEqual(EncodingOption.allCases.map(\.rawValue), TileEncoding.allCases.map(\.rawValue))
        XCTAssertEqual(ModelOption.allCases.map(\.rawValue), Models.names)
        XCTAssertEqual(OptimizerOption.allCases.map(\.rawValue), ["sgd", "adam"])
        XCTAssertEqual(try EncodingOption.parse("raw"), .raw)
        XCTAssertThrowsError(try EncodingOption.parse("png")) { XCTAssertEqual("\($0)", "--encoding must be jpeg or raw") }
        XCTAssertThrowsError(try ModelOption.parse("vgg")) { XCTAssertEqual("\($0)", "--model must be refnet-s or resnet-s") }
    }

    func testScheduleParsesToTheTrainingConfigText() throws {
        XCTAssertEqual(try ScheduleOption.parse("cosine"), .cosine)
        XCTAssertEqual(try ScheduleOption.parse("step:6,9"), .step(epochs: [6, 9]))
        XCTAssertEqual(try ScheduleOption.parse("step:6,9").description, "step:6,9")
        for bad in ["linear", "step:6,x", "Cosine"] {
            XCTAssertThrowsError(try ScheduleOption.parse(bad), bad) {
                XCTAssertEqual("\($0)", "--schedule must be cosine or step:E1,E2 (e.g. step:6,9)")
            }
        }
    }

    func testVersionCarriesTheCommit() {
        XCTAssertEqual(TesseraVersion.current, "\(TesseraVersion.release) (commit \(TesseraVersion.commit))")
        XCTAssertEqual(TesseraVersion.line("tessera-tile"), "tessera-tile \(TesseraVersion.current)")
        XCTAssertTrue(TesseraVersion.commit == "unknown" || TesseraVersion.commit.range(of: "^[0-9a-f]{7,}(-dirty)?$", options: .regularExpression) != nil,
                      TesseraVersion.commit)
    }
}
