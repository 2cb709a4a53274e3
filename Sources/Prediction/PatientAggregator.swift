/// One row of patients.csv: a patient's slides aggregated as if all their tiles were one slide.
public struct PatientPrediction: Equatable, Sendable {
    public var patientID: String
    /// The label all the patient's labelled slides share; nil when unlabelled or when they
    /// disagree (e.g. a tumour and a normal slide), which `message` then says.
    public var label: String?
    /// Slides of the patient, including those that failed.
    public var slides: Int
    /// `.ok` with at least one tile; `.noTissueTiles` when the slides read had none; `.failed` when
    /// every slide failed.
    public var outcome: PredictionOutcome
    public var message: String
    /// The pooled tiles of the patient's predicted slides; nil unless `.ok`.
    public var aggregate: SlideAggregate?

    public static func header(classes: [String], abmil: Bool = false) -> [String] {
        ["patient_id", "label", "n_slides"] + AggregateColumns.header(classes: classes, abmil: abmil) + ["status", "message"]
    }

    public func fields(classes: [String], abmil: Bool = false) -> [String] {
        [patientID, label ?? "", "\(slides)"] + AggregateColumns.fields(aggregate, classes: classes, abmil: abmil) + [outcome.rawValue, message]
    }
}

/// Slide rows → patient rows; pure. A patient's tiles are pooled: its mean probability is the mean
/// over all tiles of its predicted slides (each slide weighted by its tile count) and its votes
/// are the sum of its slides' votes. Ties are broken by class order, as for slides.
public enum PatientAggregator {
    /// One row per patient id, sorted by patient id. Slides with an empty patient id (store files
    /// that could not be opened) belong to no patient and are left out.
    public static func aggregate(_ slides: [SlidePrediction], classes: Int) -> [PatientPrediction] {
        var byPatient: [String: [SlidePrediction]] = [:]
        for s in slides where !s.patientID.isEmpty { byPatient[s.patientID, default: []].append(s) }
        return byPatient.keys.sorted().map { id in
            let own = byPatient[id]!
            let labels = Set(own.compactMap(\.label)).sorted()
            let predicted = own.compactMap(\.aggregate)
            let failed = own.filter { $0.outcome == .failed }.count
            var notes: [String] = []
            if labels.count > 1 { notes.append("slide labels differ (\(labels.joined(separator: ", "))): no patient label") }
            if failed > 0 { notes.append("\(failed) of \(own.count) slides failed") }
            let pooled = SlideAggregator.combine(predicted, classes: classes)
            let outcome: PredictionOutcome = pooled.tiles > 0 ? .ok : (failed == own.count ? .failed : .noTissueTiles)
            return PatientPrediction(patientID: id, label: labels.count == 1 ? labels[0] : nil, slides: own.count, outcome: outcome,
                                     message: notes.joined(separator: "; "), aggregate: pooled.tiles > 0 ? pooled : nil)
        }
    }
}
