import TesseraCLI
import TesseraTestSupport
import XCTest

final class JobFileTests: XCTestCase {
    func testParsesWhatBashSources() throws {
        let job = try JobFile.parse("""
            # comment
            NAME=demo
            export STORE=store   # trailing comment
            CLASSES="LUAD,LUSC,normal"
            EMPTY=
            QUOTED='a b'
            HEATMAPS=1
            """, path: "j.env")
        XCTAssertEqual(job.values, ["NAME": "demo", "STORE": "store", "CLASSES": "LUAD,LUSC,normal", "EMPTY": "", "QUOTED": "a b", "HEATMAPS": "1"])
        XCTAssertEqual(try job.arguments([.option("STORE", "--store"), .option("EMPTY", "--empty"), .option("MISSING", "--missing"),
                                          .flag("HEATMAPS", "--heatmaps"), .option("QUOTED", "--q"), .file("STORE", "--model", in: "model.tsm")]),
                       ["--store", "store", "--heatmaps", "--q", "a b", "--model", "store/model.tsm"])
    }

    func testRefusesWhatItCannotReadFaithfully() {
        for (text, message) in [("STORE=$HOME/x", "no expansion"), ("A B=1", "not a variable name"), ("X=a b", "quote it"),
                                ("Y=\"open", "unclosed"), ("just words", "expected KEY=value")] {
            XCTAssertThrowsError(try JobFile.parse("OK=1\n" + text, path: "j.env"), text) { error in
                XCTAssertTrue("\(error)".contains("j.env:2:"), "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }

    func testCommandLineOverridesTheJobFile() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "job")
        let path = dir.appendingPathComponent("j.env").path
        try "STORE=from-file\nTILE_SIZE=256\n".write(toFile: path, atomically: true, encoding: .utf8)
        let mappings: [JobFile.Mapping] = [.option("STORE", "--store"), .option("TILE_SIZE", "--tile-size")]
        XCTAssertEqual(try JobFile.expand(["--x", "1", "--job", path, "--tile-size", "128"], mappings: mappings),
                       ["--store", "from-file", "--tile-size", "256", "--x", "1", "--tile-size", "128"])
        XCTAssertEqual(try JobFile.expand(["--job=\(path)"], mappings: mappings), ["--store", "from-file", "--tile-size", "256"])
        XCTAssertEqual(try JobFile.expand(["--store", "s"], mappings: mappings), ["--store", "s"])
        XCTAssertThrowsError(try JobFile.expand(["--job"], mappings: mappings))
    }

    /// A misspelt key is refused with its line and the nearest known key, instead of running with
    /// the default silently.
    func testUnknownKeyIsRefusedWithTheNearestKnownKey() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "job")
        let path = dir.appendingPathComponent("j.env").path
        try "STORE=s\nMAGNIFICATON=40\nTILESIZE=256\nCOLOUR=blue\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobFile.expand(["--job", path], mappings: [.option("STORE", "--store")])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("\(path):2: unknown key MAGNIFICATON; did you mean MAGNIFICATION?"), text)
            XCTAssertTrue(text.contains("\(path):3: unknown key TILESIZE; did you mean TILE_SIZE?"), text)
            XCTAssertTrue(text.contains("\(path):4: unknown key COLOUR\n"), text)
            XCTAssertTrue(text.contains("known keys: ASSUME_MPP, BACKGROUND_THRESHOLD"), text)
        }
        XCTAssertEqual(JobFile.nearestKnownKey(to: "LEARNINGRATE"), "LEARNING_RATE")
        XCTAssertEqual(JobFile.nearestKnownKey(to: "magnification"), "MAGNIFICATION")
        XCTAssertNil(JobFile.nearestKnownKey(to: "WHATEVER"))
    }

    /// Every key the shipped job files and the scripts' job files use is known.
    func testKeysOfShippedJobFilesAreKnown() throws {
        for name in ["demo.env", "tcga-lung.env"] {
            let job = try JobFile.load(TestEnvironment.packageRoot.appendingPathComponent("Jobs/\(name)").path)
            XCTAssertNoThrow(try job.checkKeys(), name)
        }
        let scriptKeys = try JobFile.parse("NAME=x\nRANKS=2\nTILE_SHARDS=3\nTILE_THREADS=1\nTRAIN_THREADS=1\nPREDICT_SHARDS=2\nPREDICT_THREADS=1\nTESSERA_LAUNCHER=mpirun\n",
                                           path: "j.env")
        XCTAssertNoThrow(try scriptKeys.checkKeys())
    }

    /// The repository's job files parse, and carry every key the pipeline scripts need.
    func testShippedJobFiles() throws {
        for name in ["demo.env", "tcga-lung.env"] {
            let job = try JobFile.load(TestEnvironment.packageRoot.appendingPathComponent("Jobs/\(name)").path)
            for key in ["NAME", "MANIFEST", "CLASSES", "TILE_SIZE", "SPLIT", "TILE_SHARDS", "STORE", "MODEL", "INPUT_SIZE", "EPOCHS",
                        "BATCH", "RANKS", "RUN", "PREDICT_SHARDS", "PREDICTIONS"] {
                XCTAssertNotNil(job.values[key], "\(name) lacks \(key)")
            }
        }
    }
}
