import Foundation
import OpenSlide
import TesseraCore

/// `tessera-synth` writing one gigapixel slide: level-0 megapixels per second of wall time, and the
/// writer's peak resident memory (it must stream, not hold the slide).
struct SynthBenchmark: Benchmark {
    func run(in context: BenchContext) throws {
        guard context.gigapixelSize != nil else {
            context.skip("synth_write, synth_peak_rss", because: "--skip-gigapixel")
            return
        }
        let run = try context.gigapixelSlide()
        Figure("synth_write", run.size.megapixels / run.outcome.wallSeconds, "Mpixel/s").emit()
        Figure("synth_peak_rss", Double(run.outcome.peakRSSBytes) / 1_048_576, "MiB").emit()
    }
}

/// One run of the `tessera-synth` executable writing a single slide, measured from outside: the bench
/// does not link the generator, so it measures exactly what users run.
struct SynthRun {
    let path: String
    let size: PixelSize
    /// Wall time, CPU time and peak resident memory of the writer.
    let outcome: ChildProcess.Outcome
    let fileBytes: Int

    /// The tissue class of the generated slide (any class would do; LUAD has dense glands).
    static let slideClass = "LUAD"

    static func writeSlide(size: PixelSize, into directory: URL) throws -> SynthRun {
        let path = directory.appendingPathComponent("gigapixel-\(size).svs").path
        try? FileManager.default.removeItem(atPath: path)
        let synth = ChildProcess(executable: try ChildProcess.sibling("tessera-synth"), arguments: [
            "--single-slide", path, "--class", slideClass, "--width", String(size.width), "--height", String(size.height),
        ])
        Log.info("writing a \(size) slide (\(Figure.format(size.megapixels)) Mpixel): \(synth.commandLine)")
        let outcome = try synth.run()
        guard outcome.succeeded else {
            throw BenchError.toolFailed("tessera-synth \(outcome.ending) while writing \(path)",
                                        hint: "its messages are above; run the command shown to reproduce")
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let bytes = (attributes[.size] as? NSNumber)?.intValue, bytes > 0 else {
            throw BenchError.toolFailed("tessera-synth exited 0 but did not write \(path)",
                                        hint: "check that \(synth.executable.path) supports --single-slide (see its --help) and rebuild it")
        }
        let run = SynthRun(path: path, size: size, outcome: outcome, fileBytes: bytes)
        Log.info("tessera-synth wrote \(path): \(Figure.format(Double(bytes) / 1_048_576)) MiB in \(Figure.format(outcome.wallSeconds)) s, \(outcome.usageSummary)")
        try run.checkOpens()
        return run
    }

    /// The slide opens in OpenSlide at the size asked for: a fast writer of a broken file is no news.
    func checkOpens() throws {
        let (width, height) = try Slide(path: path).dimensions(level: 0)
        guard width == size.width, height == size.height else {
            throw BenchError.wrongResult("\(path) opens in OpenSlide as \(width)×\(height), expected \(size)",
                                         hint: "tessera-synth ignored --width/--height")
        }
    }
}
