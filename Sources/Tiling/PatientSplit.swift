import TesseraCore

/// The three splits of a cohort.
public enum Split: String, CaseIterable, Sendable, Codable {
    case train, validation, test
}

/// Which split each patient belongs to: deterministic from the manifest and a seed, the same in
/// every array task without coordination, stratified by class, and by patient — all slides of a
/// patient land in one split whatever their labels, so nothing of a test patient is ever trained on.
public struct PatientSplit: Equatable, Sendable {
    public let fractions: [Double]
    public let seed: UInt64
    public let splitOfPatient: [String: Split]

    /// - Parameter fractions: train, validation, test; non-negative, summing to 1.
    public init(entries: [ManifestEntry], fractions: [Double] = [0.7, 0.15, 0.15], seed: UInt64) {
        precondition(fractions.count == 3 && fractions.allSatisfy { $0 >= 0 } && abs(fractions.reduce(0, +) - 1) < 1e-6,
                     "split fractions must be three non-negative numbers summing to 1, got \(fractions)")
        self.fractions = fractions
        self.seed = seed
        // A patient's stratum is the set of its labels ("LUAD", "LUAD+normal", …): patients with a
        // tumour and a normal slide are spread over the splits like the others.
        var labelsOfPatient: [String: Set<String>] = [:]
        for e in entries { labelsOfPatient[e.patientID, default: []].insert(e.label ?? "") }
        var strata: [String: [String]] = [:]
        for (patient, labels) in labelsOfPatient { strata[labels.sorted().joined(separator: "+"), default: []].append(patient) }
        var result: [String: Split] = [:]
        // Carry rounding remainders from stratum to stratum so many small strata still add up to
        // the requested fractions overall.
        var carry = [0.0, 0.0]
        for stratum in strata.keys.sorted() {
            var patients = strata[stratum]!.sorted()
            var rng = SeededGenerator(seed: seed, stream: stableHash(stratum))
            patients.shuffle(using: &rng)
            let n = Double(patients.count)
            let wantTrain = n * fractions[0] + carry[0]
            let wantVal = n * fractions[1] + carry[1]
            var nTrain = Int(wantTrain.rounded())
            var nVal = Int(wantVal.rounded())
            nTrain = min(max(nTrain, 0), patients.count)
            nVal = min(max(nVal, 0), patients.count - nTrain)
            carry[0] = wantTrain - Double(nTrain)
            carry[1] = wantVal - Double(nVal)
            for (i, p) in patients.enumerated() {
                result[p] = i < nTrain ? .train : (i < nTrain + nVal ? .validation : .test)
            }
        }
        splitOfPatient = result
    }

    public func split(of patient: String) -> Split? { splitOfPatient[patient] }

    /// `splits.csv`: patient_id,split, sorted by patient.
    public var csv: String {
        CSV.document(header: ["patient_id", "split"],
                     rows: splitOfPatient.keys.sorted().map { [$0, splitOfPatient[$0]!.rawValue] })
    }
}
