import TesseraCore
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
