import Foundation
import NeuralNet
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

@testable import Model

/// `model.tsm` is a safetensors file: its layout read by hand, its integrity check, the format-2
/// archives earlier versions wrote, and Python's `safetensors` reading the same tensors.
final class ModelSafetensorsTests: XCTestCase {
    let tiling = TilingSpec(tileSize: 32, target: .mpp(0.5), backgroundThreshold: 220, maxBackground: 0.5, jpegQuality: 90)

    func model() throws -> ModelFile {
        let net = try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: 5)
        let header = ModelFile.Header(network: net, classes: ["LUAD", "LUSC", "normal"], normalization: Normalization(mean: [200, 150, 180], std: [30, 40, 35]),
                                      tiling: tiling, epochs: 2, validationAccuracy: 0.75)
        return ModelFile(header: header, parameters: net.exportParameters(), state: net.exportState())
    }

    func written() throws -> (URL, ModelFile) {
        let url = try TestEnvironment.temporaryDirectory(self, "safetensors").appendingPathComponent("model.tsm")
        let m = try model()
        try m.write(to: url)
        return (url, m)
    }

    func testLayoutIsSafetensorsByTheSpecification() throws {
        let (url, m) = try written()
        let data = try Data(contentsOf: url)
        let n = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        XCTAssertEqual(n % 8, 0, "the header is padded to 8 bytes so the tensors are aligned")
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        let metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(metadata["format"], "tessera-model")
        XCTAssertEqual(metadata["classes"], #"["LUAD","LUSC","normal"]"#)
        XCTAssertEqual(metadata["tiling"], #"{"background_threshold":220,"jpeg_quality":90,"max_background":0.5,"target_mpp":0.5,"tile_size":32}"#,
                       "report.json's keys")
        XCTAssertEqual(metadata[Safetensors.checksumKey]?.count, 16)
        let decodedHeader = try JSONDecoder().decode(ModelFile.Header.self, from: Data(try XCTUnwrap(metadata["header"]).utf8))
        XCTAssertEqual(decodedHeader, m.header)
        // Every parameter and state tensor by name, F32, its shape, its bytes exactly the values.
        let infos = m.header.parameterInfo.map { ($0.name, $0.shape, m.parameters[$0.offset..<($0.offset + $0.count)]) }
            + m.header.stateInfo.map { ($0.name, $0.shape, m.state[$0.offset..<($0.offset + $0.count)]) }
        XCTAssertEqual(header.count, infos.count + 1)
        var covered = 0
        for (name, shape, values) in infos {
            let e = try XCTUnwrap(header[name] as? [String: Any], name)
            XCTAssertEqual(e["dtype"] as? String, "F32", name)
            XCTAssertEqual(e["shape"] as? [Int], shape, name)
            let offsets = try XCTUnwrap(e["data_offsets"] as? [Int], name)
            XCTAssertEqual(offsets[1] - offsets[0], 4 * values.count, name)
            let start = 8 + n + offsets[0]
            let stored = (0..<values.count).map { i in
                data.withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self))) }
            }
            XCTAssertEqual(stored, Array(values), name)
            covered += offsets[1] - offsets[0]
        }
        XCTAssertEqual(8 + n + covered, data.count, "the tensors cover the rest of the file exactly")

        let read = try ModelFile.read(url)
        XCTAssertEqual(read.header, m.header)
        XCTAssertEqual(read.parameters, m.parameters)
        XCTAssertEqual(read.state, m.state)
        XCTAssertEqual(try m.encoded(), try read.encoded(), "the same model gives the same bytes")
    }

    func testDamageIsRefusedWithTheFileAndTheReason() throws {
        let (url, _) = try written()
        let good = try Data(contentsOf: url)
        func refused(_ damaged: Data, _ what: String, contains expected: String) {
            XCTAssertNoThrow(try damaged.write(to: url))
            XCTAssertThrowsError(try ModelFile.read(url), what) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(url.path): ") && "\(error)".contains(expected), "\(what): \(error)")
            }
        }
        for bit in 0..<64 {
            var d = good
            d[bit / 8] ^= UInt8(1 << (bit % 8))
            refused(d, "header length bit \(bit)", contains: ": ")
        }
        var d = good
        d[7] ^= 0x80
        refused(d, "top bit of the length", contains: "the header length field says 922337203685")
        // A digit of the normalisation mean inside the metadata's header string.
        let text = String(decoding: good, as: UTF8.self)
        let mean = try XCTUnwrap(text.range(of: #"mean\":["#))
        let digit = try XCTUnwrap(text[mean.upperBound...].firstIndex { ("1"..."8").contains($0) })
        d = good
        d[text.utf8.distance(from: text.startIndex, to: digit)] += 1
        refused(d, "a digit of the header", contains: "checksum mismatch")
        d = good
        d[d.count - 3] ^= 0x10
        refused(d, "a weight", contains: "checksum mismatch")
        refused(good.prefix(good.count - 4), "cut short", contains: "bytes of weights")
    }

    func testFormatTwoArchivesOfEarlierVersionsAreStillRead() throws {
        let (url, m) = try written()
        try Archive.write(to: url, magic: ModelFile.magic, header: m.header, blobs: [("parameters", m.parameters), ("state", m.state)])
        let read = try ModelFile.read(url)
        XCTAssertTrue(read.sameModel(as: m))
    }

    /// The README's Python lines, run: every tensor equal to the Swift value (exactly: float32
    /// bits printed with 9 significant digits round-trip), the classes and tiling from the metadata.
    func testPythonSafetensorsLoadsTheModel() throws {
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let probe = try runCommand(python, ["python3", "-c", "import safetensors, numpy"])
        try XCTSkipIf(probe.status != 0, "python3 with safetensors and numpy is not installed (Jobs/install-deps installs them): \(probe.stderr.suffix(200))")
        let (url, m) = try written()
        let script = """
            import json, sys
            from safetensors import safe_open
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            with safe_open(sys.argv[1], framework="numpy") as f:
                meta = f.metadata()
            print(json.dumps({"classes": json.loads(meta["classes"]), "tile_size": json.loads(meta["tiling"])["tile_size"],
                              "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": ["%.9g" % x for x in v.ravel()]}
                                          for k, v in tensors.items()}}))
            """
        let r = try runCommand(python, ["python3", "-c", script, url.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["classes"] as? [String], m.header.classes)
        XCTAssertEqual(json["tile_size"] as? Int, 32)
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])
        let expected = m.header.parameterInfo.map { ($0.name, $0.shape, m.parameters[$0.offset..<($0.offset + $0.count)]) }
            + m.header.stateInfo.map { ($0.name, $0.shape, m.state[$0.offset..<($0.offset + $0.count)]) }
        XCTAssertEqual(tensors.count, expected.count)
        var compared = 0
        for (name, shape, values) in expected {
            let t = try XCTUnwrap(tensors[name], name)
            XCTAssertEqual(t["dtype"] as? String, "float32", name)
            XCTAssertEqual(t["shape"] as? [Int], shape, name)
            let python = try XCTUnwrap(t["values"] as? [String], name).map { Float($0) }
            XCTAssertEqual(python, values.map { $0 }, "\(name): Python's values differ from Swift's (tolerance 0)")
            compared += values.count
        }
        XCTAssertEqual(compared, m.parameters.count + m.state.count)
    }
}
