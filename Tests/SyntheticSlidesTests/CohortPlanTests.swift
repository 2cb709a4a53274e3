import Foundation
import XCTest

@testable import SyntheticSlides

final class CohortPlanTests: XCTestCase {
    func testNamesPairsClassesAndScansOfATwelvePatientCohort() throws {
        let plan = CohortPlan(options: CohortOptions(patients: 12, seed: 1, width: 4096, height: 3072))
        let slides = plan.slides
        XCTAssertEqual(Set(slides.map(\.patientID)), Set((1...12).map { String(format: "TCGA-SY-%04d", $0) }))
        let pattern = try NSRegularExpression(pattern: #"^TCGA-SY-\d{4}-(01|11)A-01-TS1$"#)
        for s in slides {
            XCTAssertEqual(pattern.numberOfMatches(in: s.slideID, range: NSRange(s.slideID.startIndex..., in: s.slideID)), 1, s.slideID)
            XCTAssertTrue(s.slideID.hasPrefix(s.patientID + "-"))
            XCTAssertEqual(s.slideID.contains("-11A-"), s.tissueClass == .normal, "\(s.slideID) is \(s.tissueClass)")
        }
        // A third of the patients (4) have a tumour and a normal slide.
        let perPatient = Dictionary(grouping: slides, by: \.patientID)
        let pairs = perPatient.values.filter { $0.count == 2 }
        XCTAssertEqual(pairs.count, 4)
        for pair in pairs { XCTAssertEqual(Set(pair.map(\.tissueClass.isTumour)), [true, false]) }
        XCTAssertEqual(slides.count, 16)
        // Classes balanced: each 16/3 ± 1.
        for cls in TissueClass.allCases {
            XCTAssertEqual(Double(slides.filter { $0.tissueClass == cls }.count), 16.0 / 3, accuracy: 1.4, "\(cls)")
        }
        XCTAssertEqual(slides.filter { $0.scan == .aperio40x }.count, 4)
        XCTAssertEqual(slides.filter { $0.scan == .unrecorded20x }.count, 2)
        XCTAssertEqual(Set(slides.map(\.seed)).count, slides.count, "slide seeds must differ")
        XCTAssertEqual(Set(slides.map(\.slideID)).count, slides.count)
    }

    func testPlansAreDeterministicAndDependOnTheSeed() {
        let a = CohortPlan(options: CohortOptions(patients: 20, seed: 7, width: 1024, height: 768))
        XCTAssertEqual(a, CohortPlan(options: CohortOptions(patients: 20, seed: 7, width: 1024, height: 768)))
        let b = CohortPlan(options: CohortOptions(patients: 20, seed: 8, width: 1024, height: 768))
        XCTAssertNotEqual(a.slides.map(\.seed), b.slides.map(\.seed))
    }

    func testEveryCohortOfSixOrMoreHasFortyXAndUnrecordedAndTwentyXSlides() {
        for patients in 6...14 {
            for seed in UInt64(1)...30 {
                let slides = CohortPlan(options: CohortOptions(patients: patients, seed: seed, width: 1024, height: 768)).slides
                XCTAssertTrue(slides.contains { $0.scan == .aperio40x }, "\(patients) patients, seed \(seed)")
                XCTAssertTrue(slides.contains { $0.scan == .unrecorded20x }, "\(patients) patients, seed \(seed)")
                XCTAssertTrue(slides.contains { $0.scan == .aperio20x }, "\(patients) patients, seed \(seed)")
                XCTAssertTrue(Set(slides.map(\.tissueClass)) == Set(TissueClass.allCases), "\(patients) patients, seed \(seed)")
            }
        }
    }

    func testTinyCohorts() {
        XCTAssertEqual(CohortPlan(options: CohortOptions(patients: 1, seed: 1, width: 512, height: 512)).slides.count, 1)
        XCTAssertEqual(CohortPlan(options: CohortOptions(patients: 2, seed: 1, width: 512, height: 512)).slides.count, 3)
        let three = CohortPlan(options: CohortOptions(patients: 3, seed: 1, width: 512, height: 512)).slides
        XCTAssertEqual(three.count, 4)
        XCTAssertEqual(three.filter { $0.tissueClass == .normal }.count, 1)
    }

    func testAperioDescriptionAndObjectivePower() {
        let s = SlideSpec(slideID: "TCGA-SY-0001-01A-01-TS1", patientID: "TCGA-SY-0001", tissueClass: .luad, seed: 1,
                          width: 4096, height: 3072, scan: .aperio20x)
        XCTAssertEqual(AperioDescription.text(for: s, tileSize: 240, quality: 90),
                       "Aperio Image Library v11.2.1\n4096x3072 [0,0 4096x3072] (240x240) JPEG/RGB Q=90|AppMag = 20|MPP = 0.4990|Filename = TCGA-SY-0001-01A-01-TS1")
        var forty = s
        forty.scan = .aperio40x
        XCTAssertTrue(AperioDescription.text(for: forty, tileSize: 256, quality: 80).hasSuffix("(256x256) JPEG/RGB Q=80|AppMag = 40|MPP = 0.2495|Filename = TCGA-SY-0001-01A-01-TS1"))
        var none = s
        none.scan = .unrecorded20x
        let text = AperioDescription.text(for: none, tileSize: 240, quality: 90)
        XCTAssertFalse(text.contains("MPP"))
        XCTAssertFalse(text.contains("AppMag"))
        XCTAssertFalse(text.contains("LUAD"), "the label must not leak into the file")
        XCTAssertEqual(ScanProfile(micronsPerPixel: 1.0).objectivePower, 10)
    }

    func testRecordRoundTripsAndWritesTheManifest() throws {
        let plan = CohortPlan(options: CohortOptions(patients: 3, seed: 2, width: 1024, height: 512))
        let record = CohortRecord(plan: plan, slidesFolder: "slides")
        let data = try record.encoded()
        XCTAssertEqual(try CohortRecord.decode(data), record)
        XCTAssertEqual(try record.encoded(), data, "encoding is not deterministic")
        let json = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(json.contains("\"slide_id\" : \"TCGA-SY-0001-"))
        XCTAssertTrue(json.contains("\"tile_size\" : 240"))
        let lines = record.manifestCSV.split(separator: "\n")
        XCTAssertEqual(lines.first, "slide_path,slide_id,patient_id,label")
        XCTAssertEqual(lines.count, 1 + plan.slides.count)
        XCTAssertEqual(lines[1], "slides/\(plan.slides[0].slideID).svs,\(plan.slides[0].slideID),\(plan.slides[0].patientID),\(plan.slides[0].tissueClass.label)")
        XCTAssertEqual(record.slides[0].levels, [[1024, 512], [256, 128]])
    }
}
