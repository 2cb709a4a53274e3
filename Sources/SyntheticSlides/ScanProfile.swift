import Foundation

/// How a synthetic slide was "scanned": its true resolution, and whether the file says so.
///
/// Real cohorts mix 20× and 40× scans, and some files (older TCGA slides) carry no resolution at all;
/// the pipeline must cope with all three.
public struct ScanProfile: Codable, Equatable, Sendable {
    /// The true size of a level-0 pixel, in micrometres (what the content is rendered at).
    public var micronsPerPixel: Double
    /// The objective magnification matching `micronsPerPixel` (20 for ~0.5 µm/px, 40 for ~0.25).
    public var objectivePower: Int
    /// Whether the slide file records MPP and AppMag in its Aperio description.
    public var recordsResolution: Bool

    public init(micronsPerPixel: Double, recordsResolution: Bool = true) {
        precondition(micronsPerPixel > 0, "micrometres per pixel must be positive, got \(micronsPerPixel)")
        self.micronsPerPixel = micronsPerPixel
        self.objectivePower = max(1, Int((10 / micronsPerPixel).rounded()))
        self.recordsResolution = recordsResolution
    }

    /// An Aperio 20× scan (0.4990 µm/px), as in most of TCGA.
    public static let aperio20x = ScanProfile(micronsPerPixel: 0.499)
    /// An Aperio 40× scan (0.2495 µm/px).
    public static let aperio40x = ScanProfile(micronsPerPixel: 0.2495)
    /// A 20× scan whose file states neither MPP nor AppMag.
    public static let unrecorded20x = ScanProfile(micronsPerPixel: 0.499, recordsResolution: false)

    /// The MPP the file states, if any.
    public var recordedMicronsPerPixel: Double? { recordsResolution ? micronsPerPixel : nil }
    /// The objective power the file states, if any.
    public var recordedObjectivePower: Int? { recordsResolution ? objectivePower : nil }
}
