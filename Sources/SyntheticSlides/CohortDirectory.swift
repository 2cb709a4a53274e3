import Foundation

/// What is already in a cohort's output folder, to decide whether writing there is safe.
public enum CohortDirectory {
    public static let manifestName = "manifest.csv"
    public static let recordName = "cohort.json"
    public static let slidesFolder = "slides"
    /// Realistic profile: the held-out sites' slides, the ground truth per slide, and its table.
    public static let heldOutManifestName = "manifest-heldout.csv"
    public static let truthFolder = "truth"
    public static let truthTableName = "truth.csv"

    public enum State: Equatable {
        /// Nothing there yet (the folder will be created).
        case absent
        case empty
        /// A folder tessera-synth wrote before (its cohort.json reads back).
        case previousCohort(record: CohortRecord)
        /// A non-empty folder that is not a cohort: writing there needs --force.
        case foreign(entries: [String])
        /// A file, not a folder.
        case notADirectory
    }

    public static func inspect(_ url: URL) -> State {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return .absent }
        guard isDirectory.boolValue else { return .notADirectory }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
        if entries.isEmpty { return .empty }
        let recordURL = url.appendingPathComponent(recordName)
        if entries.contains(recordName),
           let record = (try? Data(contentsOf: recordURL)).flatMap({ try? CohortRecord.decode($0) }),
           record.format == CohortRecord.formatName {
            return .previousCohort(record: record)
        }
        return .foreign(entries: entries)
    }
}
