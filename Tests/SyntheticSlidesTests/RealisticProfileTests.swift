import Foundation
import TesseraCore
import XCTest

@testable import SyntheticSlides

/// The realistic profile's invariants, pure: no files but temporary GeoJSON, no native libraries.
final class RealisticProfileTests: XCTestCase {
    private func plan(patients: Int = 24, seed: UInt64 = 5, size: Int = 2048, realism: RealismOptions = RealismOptions()) -> CohortPlan {
        CohortPlan(options: CohortOptions(patients: patients, seed: seed, width: size, height: size, realism: realism))
    }

    /// The GeoJSON of a slide, written and read back as the tools read it.
    private func truth(of spec: SlideSpec) throws -> (SlideTruth, RegionLayout) {
        let layout = SlideRenderer(spec: spec).regions!
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("truth-\(UUID().uuidString).geojson")
        defer { try? FileManager.default.removeItem(at: url) }
        try SlideTruth.geoJSON(slideID: spec.slideID, width: spec.width, height: spec.height, layout: layout).write(to: url, atomically: true, encoding: .utf8)
        return (try SlideTruth.read(url), layout)
    }

    /// Tumour fraction of the tissue, from the truth alone, on an n × n grid.
    private func purity(_ truth: SlideTruth, width: Int, height: Int, n: Int = 96) -> Double {
        var tissue = 0, tumour = 0
        for j in 0..<n {
            for i in 0..<n {
                let c = truth.composition(x: (Double(i) + 0.5) * Double(width) / Double(n), y: (Double(j) + 0.5) * Double(height) / Double(n))
                if let kind = c.kind { tissue += 1; if kind.isTumour { tumour += 1 } }
            }
        }
        return tissue > 0 ? Double(tumour) / Double(tissue) : 0
    }

    func testPurityMeasuredFromTheGeoJSONLiesInTheAskedRangeAndNearTheTarget() throws {
        var realism = RealismOptions()
        (realism.purityMin, realism.purityMax, realism.purityMedian) = (0.2, 0.5, 0.3)
        let slides = plan(patients: 12, size: 1536, realism: realism).slides
        let tumours = slides.filter { $0.tissueClass.isTumour }
        XCTAssertGreaterThanOrEqual(tumours.count, 6)
        for spec in slides {
            let (t, _) = try truth(of: spec)
            let measured = purity(t, width: spec.width, height: spec.height)
            if spec.tissueClass.isTumour {
                let target = spec.realism!.purity
                XCTAssertTrue((0.2...0.5).contains(target), "\(spec.slideID): target \(target)")
                XCTAssertEqual(measured, target, accuracy: 0.05, spec.slideID)
                XCTAssertTrue((0.15...0.55).contains(measured), "\(spec.slideID): measured \(measured)")
            } else {
                XCTAssertEqual(measured, 0, spec.slideID)
            }
        }
    }

    func testPurityDrawsHaveTheAskedMedianAndBounds() {
        let purities = plan(patients: 300, size: 1024).slides.compactMap { $0.tissueClass.isTumour ? $0.realism!.purity : nil }.sorted()
        XCTAssertGreaterThan(purities.count, 150)
        XCTAssertGreaterThanOrEqual(purities.first!, 0.05)
        XCTAssertLessThanOrEqual(purities.last!, 0.70)
        XCTAssertEqual(purities[purities.count / 2], 0.30, accuracy: 0.05)
    }

    func testEverySlideHasNonDiagnosticTissueAndTumoursHaveTheirKinds() throws {
        let slides = plan(patients: 18).slides
        var kinds: [TissueClass: Set<RegionKind>] = [:]
        for spec in slides {
            let layout = SlideRenderer(spec: spec).regions!
            let present = Set(layout.regions.map(\.kind))
            kinds[spec.tissueClass, default: []].formUnion(present)
            XCTAssertTrue(present.contains(.tissue), spec.slideID)
            XCTAssertFalse(present.isDisjoint(with: [.stroma, .blood, .lymphocytes, .cartilage, .pigment]), spec.slideID)
            XCTAssertEqual(present.contains(.tumourLUAD), spec.tissueClass == .luad, spec.slideID)
            XCTAssertEqual(present.contains(.tumourLUSC), spec.tissueClass == .lusc, spec.slideID)
            XCTAssertFalse(!spec.tissueClass.isTumour && present.contains(where: { $0.isTumour || $0 == .necrosis || $0 == .mucin }))
        }
        XCTAssertTrue(kinds[.luad]!.isSuperset(of: [.mucin, .necrosis, .tumourSolid]))
        XCTAssertTrue(kinds[.lusc]!.isSuperset(of: [.necrosis, .tumourSolid]))
        XCTAssertFalse(kinds[.lusc]!.contains(.mucin))
        let artefacts = kinds.values.reduce(Set<RegionKind>()) { $0.union($1) }.filter(\.isArtefact)
        XCTAssertEqual(artefacts, [.pen, .blur, .fold, .bubble, .dust])
    }

    /// Mean RGB over the pixels of a rendered region whose level-0 point satisfies `inside`.
    private func meanColour(_ image: RGBImage, x: Int, y: Int, _ inside: (Double, Double) -> Bool) -> (Double, Double, Double, Int) {
        var sum = (0.0, 0.0, 0.0), n = 0
        for j in stride(from: 0, to: image.height, by: 2) {
            for i in stride(from: 0, to: image.width, by: 2) where inside(Double(x + i) + 0.5, Double(y + j) + 0.5) {
                let o = (j * image.width + i) * 3
                sum.0 += Double(image.pixels[o]); sum.1 += Double(image.pixels[o + 1]); sum.2 += Double(image.pixels[o + 2])
                n += 1
            }
        }
        return n > 0 ? (sum.0 / Double(n), sum.1 / Double(n), sum.2 / Double(n), n) : (0, 0, 0, 0)
    }

    func testPenDustAndBubbleRegionsShowInThePixels() throws {
        var realism = RealismOptions()
        realism.artefactRate = 3
        var checked: Set<RegionKind> = []
        for spec in plan(patients: 6, size: 1024, realism: realism).slides {
            let renderer = SlideRenderer(spec: spec)
            for region in renderer.regions!.regions where [.pen, .dust].contains(region.kind) && !checked.contains(region.kind) {
                let b = region.polygon.bounds
                let x = max(0, Int(b.minX)), y = max(0, Int(b.minY))
                let w = min(spec.width, Int(b.maxX) + 1) - x, h = min(spec.height, Int(b.maxY) + 1) - y
                guard w > 16 && h > 16 else { continue }
                let image = renderer.render(x: x, y: y, width: w, height: h)
                let inside = meanColour(image, x: x, y: y) { region.polygon.contains(x: $0, y: $1) }
                let outside = meanColour(image, x: x, y: y) { !region.polygon.contains(x: $0, y: $1) }
                guard inside.3 > 20 && outside.3 > 20 else { continue }
                let d = ((inside.0 - outside.0) * (inside.0 - outside.0) + (inside.1 - outside.1) * (inside.1 - outside.1)
                         + (inside.2 - outside.2) * (inside.2 - outside.2)).squareRoot()
                XCTAssertGreaterThan(d, 40, "\(spec.slideID) \(region.kind): inside \(inside), outside \(outside)")
                if region.kind == .dust {
                    XCTAssertLessThan(inside.0 + inside.1 + inside.2, outside.0 + outside.1 + outside.2 - 120)
                }
                checked.insert(region.kind)
            }
        }
        XCTAssertEqual(checked, [.pen, .dust])
    }

    func testSitesHaveDistinctPalettesAndSlidesOfASiteShareTheirs() {
        let p = plan(patients: 40, size: 1024)
        XCTAssertEqual(p.sites.count, 6)
        func colour(_ palette: StainPalette) -> [Double] {
            let h = palette.color(h: 0.8, e: 0), e = palette.color(h: 0, e: 0.8)
            return [h.0, h.1, h.2, e.0, e.1, e.2].map(Double.init)
        }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }
        let siteColours = p.sites.map { colour(StainPalette(seed: 0, site: $0.stain)) }
        for i in siteColours.indices {
            for j in siteColours.indices where j > i {
                XCTAssertGreaterThan(distance(siteColours[i], siteColours[j]), 12, "sites \(p.sites[i].code) and \(p.sites[j].code)")
            }
        }
        // Two slides of one site differ less than the site centres do on average.
        var within: [Double] = []
        for site in p.sites {
            let members = p.slides.filter { $0.realism!.site == site.code }.map { colour(SlideRenderer(spec: $0).palette) }
            for k in members.indices.dropFirst() { within.append(distance(members[0], members[k])) }
        }
        var between: [Double] = []
        for i in siteColours.indices { for j in siteColours.indices where j > i { between.append(distance(siteColours[i], siteColours[j])) } }
        XCTAssertLessThan(within.reduce(0, +) / Double(within.count), 0.6 * between.reduce(0, +) / Double(between.count))
    }

    func testSitesNameThePatientsSetTheScanAndHoldOutTheirSlides() {
        let p = plan(patients: 60, size: 1024)
        let record = CohortRecord(plan: p, slidesFolder: "slides")
        for spec in p.slides {
            let site = p.sites.first { $0.code == spec.realism!.site }!
            XCTAssertTrue(spec.patientID.hasPrefix("TCGA-\(site.code)-"), spec.patientID)
            XCTAssertTrue(spec.slideID.hasPrefix(spec.patientID + "-"))
            XCTAssertEqual(spec.scan, site.scan)
            XCTAssertEqual(spec.realism!.jpegQuality, site.jpegQuality)
            XCTAssertEqual(spec.realism!.heldOut, site.heldOut)
        }
        XCTAssertEqual(p.sites.filter(\.heldOut).map(\.code), ["60", "85"], "the last two of six")
        let main = record.manifestCSV.split(separator: "\n").dropFirst(), held = record.heldOutManifestCSV.split(separator: "\n").dropFirst()
        XCTAssertEqual(main.count + held.count, p.slides.count)
        XCTAssertGreaterThan(held.count, 5)
        XCTAssertTrue(held.allSatisfy { $0.contains("TCGA-60-") || $0.contains("TCGA-85-") })
        XCTAssertFalse(main.contains { $0.contains("TCGA-60-") || $0.contains("TCGA-85-") })
        XCTAssertEqual(Set(p.slides.map(\.patientID)).count, 60)
    }

    func testSitesContributeClassesUnevenly() {
        var realism = RealismOptions()
        realism.siteBias = 1
        let p = plan(patients: 300, size: 1024, realism: realism)
        for (i, site) in p.sites.enumerated() {
            let slides = p.slides.filter { $0.realism!.site == site.code && $0.tissueClass.isTumour }
            let favoured = site.classWeights.firstIndex(of: site.classWeights.max()!)!
            let luad = Double(slides.filter { $0.tissueClass == .luad }.count) / Double(max(1, slides.count))
            if favoured == 0 { XCTAssertGreaterThan(luad, 0.75, "site \(i)") }
            if favoured == 1 { XCTAssertLessThan(luad, 0.25, "site \(i)") }
        }
    }

    func testTheSameSpecGivesTheSamePixelsAndTruthAndTheCleanProfileIsUntouched() throws {
        let spec = plan(patients: 3, size: 1024).slides[0]
        let a = SlideRenderer(spec: spec), b = SlideRenderer(spec: spec)
        XCTAssertEqual(a.render(x: 100, y: 200, width: 300, height: 120), b.render(x: 100, y: 200, width: 300, height: 120))
        XCTAssertEqual(a.renderSerially(x: 100, y: 200, width: 300, height: 120), a.render(x: 100, y: 200, width: 300, height: 120).pixels)
        XCTAssertEqual(SlideTruth.geoJSON(slideID: spec.slideID, width: 1024, height: 1024, layout: a.regions!),
                       SlideTruth.geoJSON(slideID: spec.slideID, width: 1024, height: 1024, layout: b.regions!))

        let clean = CohortPlan(options: CohortOptions(patients: 3, seed: 5, width: 1024, height: 1024))
        XCTAssertTrue(clean.slides.allSatisfy { $0.realism == nil })
        XCTAssertTrue(clean.sites.isEmpty)
        XCTAssertTrue(clean.slides.allSatisfy { $0.patientID.hasPrefix("TCGA-SY-") })
        XCTAssertNil(SlideRenderer(spec: clean.slides[0]).regions)
        let json = String(decoding: try CohortRecord(plan: clean, slidesFolder: "slides").encoded(), as: UTF8.self)
        XCTAssertFalse(json.contains("realism") || json.contains("held_out") || json.contains("purity"))
    }

    func testKnobProblemsNameTheOption() {
        func problem(_ change: (inout RealismOptions) -> Void) -> String? {
            var r = RealismOptions(); change(&r); return r.problem
        }
        XCTAssertNil(problem { _ in })
        XCTAssertTrue(problem { $0.purityMin = 0.8 }!.hasPrefix("--purity "))
        XCTAssertTrue(problem { $0.purityMedian = 0.9 }!.hasPrefix("--purity-median"))
        XCTAssertTrue(problem { $0.solidShare = 2 }!.hasPrefix("--solid-share"))
        XCTAssertTrue(problem { $0.sites = 99 }!.hasPrefix("--sites"))
        XCTAssertTrue(problem { $0.heldOutSites = 6 }!.hasPrefix("--held-out-sites"))
        XCTAssertTrue(problem { $0.siteBias = -1 }!.hasPrefix("--site-bias"))
    }
}
