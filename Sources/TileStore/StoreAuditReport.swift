/// What `StoreAudit` found: counts per split, every problem, and the tiler's failures.
/// Encodes to the JSON that `tessera-audit --json` writes.
public struct StoreAuditReport: Codable, Equatable, Sendable {
    /// The store folder.
    public var store: String
    /// Every .h5 file found, readable or not, in split order then by name.
    public var files: [FileSummary] = []
    /// Of the first readable file (the reference the others are compared with).
    public var classes: [String] = []
    public var tileSize: Int?
    public var encoding: TileEncoding?
    public var targetMPP: Double?
    public var targetMagnification: Double?
    public var level: Int?
    /// The tissue rule and QC the store was tiled with ("luminance; QC pen,blur (pen max 0.05, blur min 40)").
    public var qc: String?
    /// train, validation, test (those with files), then "total".
    public var splits: [SplitSummary] = []
    /// Tiles whose pixels were checked: JPEG fully decoded, or raw pixels read.
    public var tilesChecked = 0
    /// Slides the tiler gave up on, from failures/*.csv.
    public var failures: [TilerFailure] = []
    public var problems: [AuditProblem] = []
    /// Whether the tiler's status files were there to check completeness against.
    public var completenessChecked = false
    /// What the tiler's status says the store should hold but it does not (problems unless the
    /// audit allowed a partial store).
    public var missing: [String] = []
    /// No problems (tiler failures are reported, not counted as problems).
    public var passed: Bool { problems.isEmpty }

    public init(store: String) { self.store = store }

    public func split(_ name: String) -> SplitSummary? { splits.first { $0.split == name } }

    // `passed` is written to the JSON too, for scripts.
    private enum CodingKeys: String, CodingKey {
        case store, files, classes, tileSize, encoding, targetMPP, targetMagnification, level, qc, splits, tilesChecked
        case failures, problems, passed, completenessChecked, missing
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        store = try c.decode(String.self, forKey: .store)
        files = try c.decode([FileSummary].self, forKey: .files)
        classes = try c.decode([String].self, forKey: .classes)
        tileSize = try c.decodeIfPresent(Int.self, forKey: .tileSize)
        encoding = try c.decodeIfPresent(TileEncoding.self, forKey: .encoding)
        targetMPP = try c.decodeIfPresent(Double.self, forKey: .targetMPP)
        targetMagnification = try c.decodeIfPresent(Double.self, forKey: .targetMagnification)
        level = try c.decodeIfPresent(Int.self, forKey: .level)
        qc = try c.decodeIfPresent(String.self, forKey: .qc)
        splits = try c.decode([SplitSummary].self, forKey: .splits)
        tilesChecked = try c.decode(Int.self, forKey: .tilesChecked)
        failures = try c.decode([TilerFailure].self, forKey: .failures)
        problems = try c.decode([AuditProblem].self, forKey: .problems)
        completenessChecked = try c.decodeIfPresent(Bool.self, forKey: .completenessChecked) ?? false
        missing = try c.decodeIfPresent([String].self, forKey: .missing) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(store, forKey: .store)
        try c.encode(files, forKey: .files)
        try c.encode(classes, forKey: .classes)
        try c.encodeIfPresent(tileSize, forKey: .tileSize)
        try c.encodeIfPresent(encoding, forKey: .encoding)
        try c.encodeIfPresent(targetMPP, forKey: .targetMPP)
        try c.encodeIfPresent(targetMagnification, forKey: .targetMagnification)
        try c.encodeIfPresent(level, forKey: .level)
        try c.encodeIfPresent(qc, forKey: .qc)
        try c.encode(splits, forKey: .splits)
        try c.encode(tilesChecked, forKey: .tilesChecked)
        try c.encode(failures, forKey: .failures)
        try c.encode(problems, forKey: .problems)
        try c.encode(completenessChecked, forKey: .completenessChecked)
        try c.encode(missing, forKey: .missing)
        try c.encode(passed, forKey: .passed)
    }
}

/// One .h5 file of the store.
public struct FileSummary: Codable, Equatable, Sendable {
    /// Relative to the store folder, e.g. "train/part-0000-of-0002.h5".
    public var path: String
    /// The folder it is in.
    public var split: String
    /// Opened as a tile store of this schema version.
    public var readable: Bool
    public var slides: Int
    public var tiles: Int
    public var bytes: Int
}

/// Counts for one split (or "total").
public struct SplitSummary: Codable, Equatable, Sendable {
    public var split: String
    public var files = 0
    public var slides = 0
    public var patients = 0
    public var tiles = 0
    /// Tiles per class name (every class present, 0 included).
    public var tilesPerClass: [String: Int] = [:]
    public var unlabelledTiles = 0
    /// Slides that kept no tile.
    public var slidesWithoutTiles = 0
    /// Candidate tiles of the split's slides, and those dropped by each reason (`TileDropReason`
    /// raw values); nil when the store's files predate the drop counts.
    public var tilesConsidered = 0
    public var tilesDropped: [String: Int]?
    /// Over the split's slides, slides without tiles included; nil without slides.
    public var tilesPerSlide: Distribution?

    public init(split: String) { self.split = split }
}

/// Minimum, median, mean and maximum of a list of counts.
public struct Distribution: Codable, Equatable, Sendable {
    public var min: Int
    public var median: Double
    public var mean: Double
    public var max: Int

    public init?(_ values: [Int]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        min = sorted[0]
        max = sorted[sorted.count - 1]
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? Double(sorted[mid]) : Double(sorted[mid - 1] + sorted[mid]) / 2
        mean = Double(values.reduce(0, +)) / Double(values.count)
    }
}

/// A slide the tiler recorded as failed (one row of failures/*.csv).
public struct TilerFailure: Codable, Equatable, Sendable {
    /// The failures file, relative to the store.
    public var file: String
    public var slideID: String
    public var slidePath: String
    public var stage: String
    public var message: String
}

/// One thing wrong with the store.
public struct AuditProblem: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Not HDF5, cut short, not a tile store, another schema version, missing or inconsistent datasets.
        case unreadableFile = "unreadable-file"
        /// Tiling parameters (classes, tile size, encoding, target, ...) differ from the first file's.
        case mismatchedParameters = "mismatched-parameters"
        /// A file in the wrong folder, a test file not named after its one slide.
        case misplacedFile = "misplaced-file"
        /// Slide table: unknown label, tile counts that do not add up, impossible sizes.
        case slideTable = "slide-table"
        /// Tile columns: label out of range or not the slide's, slide index out of range,
        /// position outside the slide, background fraction out of range, bytes outside the data.
        case tileRecords = "tile-records"
        /// A tile whose JPEG does not decode, or decodes to the wrong size; raw pixels unreadable.
        case undecodableTile = "undecodable-tile"
        case duplicateSlide = "duplicate-slide"
        /// A patient in two splits (across files, or against splits.csv).
        case patientInTwoSplits = "patient-in-two-splits"
        /// splits.csv unreadable, or missing a patient of the store.
        case splitsFile = "splits-file"
        case failuresFile = "failures-file"
        case noFiles = "no-files"
        /// A tile whose stored bytes fail their Fletcher-32 checksum (the file changed after it was written).
        case damagedTile = "damaged-tile"
        /// Other data (tile columns, slide table) failing its checksum.
        case damagedFile = "damaged-file"
        /// Files or tasks the tiler's status records are missing (`StoreCompleteness`).
        case incompleteStore = "incomplete-store"
        /// Slides with the same content digest (the same slide tiled twice) in two splits or under
        /// two patients: leakage between training and evaluation.
        case sameSlideContent = "same-slide-content"
    }

    public var kind: Kind
    /// Relative to the store; nil for problems of the store as a whole.
    public var file: String?
    public var message: String

    public init(_ kind: Kind, file: String?, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }
}
