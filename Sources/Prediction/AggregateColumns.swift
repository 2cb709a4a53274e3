import Model
import TesseraCore
import Tiling

/// The aggregate columns shared by slides.csv and patients.csv, in this order: `n_tiles,
/// p_<class>…, predicted_by_mean, vote_share_<class>…, predicted_by_vote,
/// above_threshold_share_<class>…, predicted_by_above_threshold` (columns named by aggregator),
/// and, when a MIL run's predictions are attached, `abmil_p_<class>…, predicted_by_abmil` (empty
/// for a slide the MIL model did not predict). Without tiles, every column but `n_tiles` (0) is empty.
enum AggregateColumns {
    static func header(classes: [String], abmil: Bool = false) -> [String] {
        ["n_tiles"] + classes.map { "p_\($0)" } + ["predicted_by_mean"] + classes.map { "vote_share_\($0)" } + ["predicted_by_vote"]
            + classes.map { "above_threshold_share_\($0)" } + ["predicted_by_above_threshold"]
            + (abmil ? classes.map { "\(MILOutputs.aggregatorName)_p_\($0)" } + ["predicted_by_\(MILOutputs.aggregatorName)"] : [])
    }

    static func count(classes: Int, abmil: Bool = false) -> Int { 3 * classes + 4 + (abmil ? classes + 1 : 0) }

    static func fields(_ a: SlideAggregate?, classes: [String], abmil: Bool = false) -> [String] {
        guard let a, a.tiles > 0 else {
            return ["0"] + [String](repeating: "", count: count(classes: classes.count, abmil: abmil) - 1)
        }
        var f = ["\(a.tiles)"] + a.meanProbabilities.map(DecimalText.format) + [classes[a.predictedByMean!]]
            + a.voteShares.map(DecimalText.format) + [classes[a.predictedByVote!]]
            + a.aboveThresholdShares.map(DecimalText.format) + [classes[a.predictedByThreshold!]]
        if abmil {
            f += a.abmilProbabilities.map { p in p.map(DecimalText.format) + [classes[SlideAggregator.argmax(p)]] }
                ?? [String](repeating: "", count: classes.count + 1)
        }
        return f
    }

    /// Reads the fields back (with or without the ABMIL columns, told apart by their count); nil
    /// aggregate for a row without tiles. Throws a message on bad values.
    static func parse(_ f: ArraySlice<String>, classes: [String]) throws -> SlideAggregate? {
        let c = classes.count
        let abmil = f.count == count(classes: c, abmil: true)
        guard f.count == count(classes: c) || abmil else { throw Problem("\(f.count) aggregate fields, expected \(count(classes: c))") }
        let base = f.startIndex
        guard let tiles = Int(f[base]), tiles >= 0 else { throw Problem("n_tiles '\(f[base])' is not a count") }
        if tiles == 0 { return nil }
        var means: [Double] = [], votes: [Int] = [], above: [Int] = []
        for k in 0..<c {
            guard let m = DecimalText.parseDouble(f[base + 1 + k]) else { throw Problem("p_\(classes[k]) '\(f[base + 1 + k])' is not a number") }
            means.append(m)
            guard let s = DecimalText.parseDouble(f[base + 2 + c + k]) else {
                throw Problem("vote_share_\(classes[k]) '\(f[base + 2 + c + k])' is not a number")
            }
            // Shares are written exactly, so share × n_tiles is the vote count up to rounding.
            votes.append(Int((s * Double(tiles)).rounded()))
            guard let t = DecimalText.parseDouble(f[base + 3 + 2 * c + k]), (0...1).contains(t) else {
                throw Problem("above_threshold_share_\(classes[k]) '\(f[base + 3 + 2 * c + k])' is not a share")
            }
            above.append(Int((t * Double(tiles)).rounded()))
        }
        guard votes.reduce(0, +) == tiles else { throw Problem("vote shares do not add up to n_tiles \(tiles)") }
        var aggregate = SlideAggregate(tiles: tiles, meanProbabilities: means, votes: votes, aboveThreshold: above)
        let first = base + 4 + 3 * c
        if abmil && !f[first].isEmpty {
            let p = f[first..<(first + c)].compactMap(DecimalText.parseDouble)
            guard p.count == c else { throw Problem("an \(MILOutputs.aggregatorName)_p_ field is not a number") }
            aggregate.abmilProbabilities = p
        }
        return aggregate
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

/// One row of slides.csv.
public struct SlidePrediction: Equatable, Sendable, Codable {
    public var slideID: String
    /// Empty when unknown (a store file that could not be opened).
    public var patientID: String
    /// nil when unlabelled.
    public var label: String?
    public var outcome: PredictionOutcome
    /// Why a slide failed; empty otherwise.
    public var message = ""
    /// nil unless the outcome is `.ok`.
    public var aggregate: SlideAggregate?
    /// µm per level-0 pixel and where it comes from; nil when unknown.
    public var resolution: ScanResolution?
    /// The slide file, when known (a store's slides: found by --slides-dir or --slides-manifest).
    public var slidePath: String?

    /// An ok row from the slide's tiles, or a "no tissue tiles" row when there are none.
    public static func predicted(slideID: String, patientID: String, label: String?, aggregate: SlideAggregate) -> SlidePrediction {
        aggregate.tiles > 0
            ? SlidePrediction(slideID: slideID, patientID: patientID, label: label, outcome: .ok, aggregate: aggregate)
            : SlidePrediction(slideID: slideID, patientID: patientID, label: label, outcome: .noTissueTiles,
                              message: "no tile passed the background rule")
    }

    /// `slide_id, patient_id, label, mpp, mpp_source, slide_path, <aggregate columns>, status, message`.
    public static func header(classes: [String], abmil: Bool = false) -> [String] {
        ["slide_id", "patient_id", "label", "mpp", "mpp_source", "slide_path"] + AggregateColumns.header(classes: classes, abmil: abmil)
            + ["status", "message"]
    }

    public func fields(classes: [String], abmil: Bool = false) -> [String] {
        [slideID, patientID, label ?? "", resolution.map { DecimalText.format($0.mpp) } ?? "", resolution?.source.rawValue ?? "", slidePath ?? ""]
            + AggregateColumns.fields(aggregate, classes: classes, abmil: abmil) + [outcome.rawValue, message]
    }

}

// In an extension, so that the struct keeps its memberwise initialiser (internal: rows are made in this module).
extension SlidePrediction {
    /// Parses one data row of slides.csv (as written by `fields`, with or without the ABMIL columns).
    public init(fields f: [String], classes: [String]) throws {
        guard f.count == SlidePrediction.header(classes: classes).count || f.count == SlidePrediction.header(classes: classes, abmil: true).count else {
            throw AggregateColumns.Problem("\(f.count) fields, expected \(SlidePrediction.header(classes: classes).count)")
        }
        guard let outcome = PredictionOutcome(rawValue: f[f.count - 2]) else {
            throw AggregateColumns.Problem("status '\(f[f.count - 2])' is not one of \(PredictionOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let aggregate = try AggregateColumns.parse(f[6..<(f.count - 2)], classes: classes)
        if (outcome == .ok) != (aggregate != nil) { throw AggregateColumns.Problem("status \(outcome.rawValue) with n_tiles \(f[6])") }
        self.init(slideID: f[0], patientID: f[1], label: f[2].isEmpty ? nil : f[2], outcome: outcome, message: f[f.count - 1],
                  aggregate: aggregate)
        if !f[3].isEmpty || !f[4].isEmpty {
            guard let mpp = DecimalText.parseDouble(f[3]), mpp > 0, let source = ScanResolution.Source(rawValue: f[4]) else {
                throw AggregateColumns.Problem("mpp '\(f[3])' with mpp_source '\(f[4])': expected a positive number and one of \(ScanResolution.Source.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            resolution = ScanResolution(mpp: mpp, source: source)
        }
        slidePath = f[5].isEmpty ? nil : f[5]
    }
}
