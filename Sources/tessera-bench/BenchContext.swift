import Foundation
import TesseraCore

/// Where the reference slides are, or why there are none.
enum SlidesFolder {
    case available(URL)
    case unavailable(reason: String)
}

/// What every benchmark group gets: the run's settings, its inputs, and the gigapixel slide (written
/// once, by the first group that needs it).
final class BenchContext {
    /// Fewer samples and tiles: a quick look, not figures to compare.
    let quick: Bool
    let slides: SlidesFolder
    /// Scratch space for generated slides.
    let workDirectory: URL
    /// Nil with `--skip-gigapixel`.
    let gigapixelSize: PixelSize?
    private var gigapixel: Result<SynthRun, any Error>?
    private var gigapixelStore: Result<URL, any Error>?
    /// Median sgemm 1024³ GFLOP/s by OpenBLAS thread count, once the sgemm group measured it: the
    /// peak that the network figures are set against.
    var sgemmPeak: [Int: Double] = [:]

    init(quick: Bool, slides: SlidesFolder, workDirectory: URL, gigapixelSize: PixelSize?) {
        self.quick = quick
        self.slides = slides
        self.workDirectory = workDirectory
        self.gigapixelSize = gigapixelSize
    }

    /// `full` normally, `quick` with `--quick`.
    func count(_ full: Int, quick: Int) -> Int { self.quick ? quick : full }

    /// Says on standard error that `figures` were not measured, and why.
    func skip(_ figures: String, because reason: String) {
        Log.warning("skipped \(figures): \(reason)")
    }

    /// The path of the reference slide `name`, or nil after saying that `figures` are skipped.
    func referenceSlide(_ name: String, for figures: String) -> String? {
        switch slides {
        case let .unavailable(reason):
            skip(figures, because: reason)
            return nil
        case let .available(folder):
            let path = folder.appendingPathComponent(name).path
            guard FileManager.default.isReadableFile(atPath: path) else {
                skip(figures, because: "\(path) is missing from the slides folder")
                return nil
            }
            return path
        }
    }

    /// The gigapixel slide, written by `tessera-synth` on first use (a failure is remembered too, so
    /// that a second group does not spend another minute failing the same way).
    func gigapixelSlide() throws -> SynthRun {
        guard let size = gigapixelSize else { preconditionFailure("gigapixel slide requested with --skip-gigapixel") }
        if gigapixel == nil {
            gigapixel = Result { try SynthRun.writeSlide(size: size, into: workDirectory) }
        }
        return try gigapixel!.get()
    }

    /// A tile-store file of the gigapixel slide at 20× (what the prediction group scores): the
    /// tiling group's, if it ran, else tiled here once with every core.
    func gigapixelStoreFile() throws -> URL {
        if gigapixelStore == nil {
            gigapixelStore = Result {
                let run = try TilerRun.tileGigapixel(try gigapixelSlide(), threads: ProcessInfo.processInfo.activeProcessorCount,
                                                     in: workDirectory)
                Log.info("tile store for prediction: \(run.summary)")
                return try run.storeFile()
            }
        }
        return try gigapixelStore!.get()
    }

    /// Records the tiling group's store of the gigapixel slide for the prediction group to reuse.
    func recordGigapixelStore(_ run: TilerRun) {
        gigapixelStore = Result { try run.storeFile() }
    }
}
