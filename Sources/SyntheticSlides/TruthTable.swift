import Foundation

/// `truth.csv` of a realistic cohort: one row per slide with what its file does not say.
///
///     slide_id,patient_id,site,label,held_out,purity_target,purity,mpp,recorded_mpp,objective_power,
///     jpeg_quality,tissue_fraction,artefacts
///
/// `purity` is measured on the truth (tumour fraction of the tissue); `artefacts` lists the kinds
/// present, separated by `;`.
public enum TruthTable {
    public static let header = "slide_id,patient_id,site,label,held_out,purity_target,purity,mpp,recorded_mpp,objective_power,"
        + "jpeg_quality,tissue_fraction,artefacts\n"

    static func row(spec: SlideSpec, entry: CohortRecord.Slide, layout: RegionLayout) -> String {
        let r = spec.realism!
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        return [spec.slideID, spec.patientID, r.site, spec.tissueClass.label, r.heldOut ? "1" : "0", f(r.purity), f(layout.purity),
                String(spec.scan.micronsPerPixel), spec.scan.recordedMicronsPerPixel.map { String($0) } ?? "",
                String(spec.scan.objectivePower), String(r.jpegQuality), f(entry.tissueFraction),
                layout.artefacts.map(\.rawValue).joined(separator: ";")].joined(separator: ",") + "\n"
    }

    /// One row as read back.
    public struct Row: Equatable, Sendable {
        public var slideID: String
        public var patientID: String
        public var site: String
        public var label: String
        public var heldOut: Bool
        public var purity: Double
        public var micronsPerPixel: Double
        public var recordedMicronsPerPixel: Double?
        public var artefacts: [String]
    }

    /// Reads truth.csv; errors name the file and line.
    public static func read(_ url: URL) throws -> [Row] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw TruthError(path: url.path, message: "cannot read it (expected the truth.csv of a realistic tessera-synth cohort)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let head = lines.first, head + "\n" == header else {
            throw TruthError(path: url.path, message: "header is not \(header.dropLast())")
        }
        lines.removeFirst()
        return try lines.enumerated().map { i, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 13, let purity = Double(f[6]), let mpp = Double(f[7]) else {
                throw TruthError(path: url.path, message: "line \(i + 2): expected 13 fields with numbers for purity and mpp")
            }
            return Row(slideID: f[0], patientID: f[1], site: f[2], label: f[3], heldOut: f[4] == "1", purity: purity,
                       micronsPerPixel: mpp, recordedMicronsPerPixel: Double(f[8]),
                       artefacts: f[12].split(separator: ";").map(String.init))
        }
    }
}
