import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// What a pipeline run with MIL=1 must leave, whichever launcher ran it: `mil-slides.csv`, the
/// ABMIL columns in slides.csv with the MIL model's class for every slide it predicted, and an
/// attention heatmap next to each class heatmap.
enum MILOutputCheck {
    static func verify(predictions: URL, mil: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let milRows = try CSV.parse(String(contentsOf: mil.appendingPathComponent("mil-slides.csv"), encoding: .utf8))
        XCTAssertGreaterThan(milRows.count, 1, "mil-slides.csv has no slides", file: file, line: line)
        let slides = try CSV.parse(String(contentsOf: predictions.appendingPathComponent("slides.csv"), encoding: .utf8))
        guard let header = slides.first?.fields, let column = header.firstIndex(of: "predicted_by_abmil") else {
            return XCTFail("slides.csv has no predicted_by_abmil column: \(slides.first?.fields ?? [])", file: file, line: line)
        }
        XCTAssertTrue(header.contains { $0.hasPrefix("abmil_p_") }, "\(header)", file: file, line: line)
        let predicted = slides.dropFirst().filter { !$0.fields[column].isEmpty }
        XCTAssertEqual(predicted.count, milRows.count - 1, "every slide of mil-slides.csv has its ABMIL class in slides.csv",
                       file: file, line: line)
        let heatmaps = Set(try FileManager.default.contentsOfDirectory(atPath: predictions.appendingPathComponent("heatmaps").path))
        for row in predicted {
            let slide = row.fields[0]
            XCTAssertTrue(heatmaps.contains("\(slide).jpg") && heatmaps.contains("\(slide)-attention.jpg"), "\(slide): \(heatmaps.sorted())",
                          file: file, line: line)
        }
    }
}
