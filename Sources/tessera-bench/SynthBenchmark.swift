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
        Figure("synth_write", run.size.megapixels / run.seconds, "Mpixel/s").emit()
        Figure("synth_peak_rss", Double(run.peakRSSBytes) / 1_048_576, "MiB").emit()
    }
}

/// One run of the `tessera-synth` executable writing a single slide, measured from outside: the bench
/// does not link the generator, so it measures exactly what users run.
struct SynthRun {
    let path: String
    let size: PixelSize
    let seconds: Double
    let cpuSeconds: Double
    let peakRSSBytes: Int
    let fileBytes: Int

    /// The tissue class of the generated slide (any class would do; LUAD has dense glands).
    static let slideClass = "LUAD"

    static func writeSlide(size: PixelSize, into directory: URL) throws -> SynthRun {
        let synth = try locateSynth()
        let path = directory.appendingPathComponent("gigapixel-\(size).svs").path
        try? FileManager.default.removeItem(atPath: path)
        let arguments = ["--single-slide", path, "--class", slideClass,
                         "--width", String(size.width), "--height", String(size.height)]
        Log.info("writing a \(size) slide (\(Figure.format(size.megapixels)) Mpixel): \(synth.path) \(arguments.joined(separator: " "))")

        let process = Process()
        process.executableURL = synth
        process.arguments = arguments
        // The child's stdout would mix with the figures: send it to our stderr, with its log.
        process.standardOutput = FileHandle.standardError
        let before = ResourceUsage.ofChildren()
        let seconds = try Measure.seconds {
            try process.run()
            process.waitUntilExit()
        }
        let usage = ResourceUsage.ofChildren()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status" : "was killed by signal"
            throw BenchError.toolFailed("tessera-synth \(how) \(process.terminationStatus) while writing \(path)",
                                          hint: "its messages are above; run the command shown to reproduce")
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let bytes = (attributes[.size] as? NSNumber)?.intValue, bytes > 0 else {
            throw BenchError.toolFailed("tessera-synth exited 0 but did not write \(path)",
                                          hint: "check that \(synth.path) supports --single-slide (see its --help) and rebuild it")
        }
        let run = SynthRun(path: path, size: size, seconds: seconds, cpuSeconds: usage.cpuSeconds - before.cpuSeconds,
                           peakRSSBytes: usage.maxRSSBytes, fileBytes: bytes)
        Log.info("tessera-synth wrote \(path): \(Figure.format(Double(bytes) / 1_048_576)) MiB in \(Figure.format(seconds)) s, CPU \(Figure.format(run.cpuSeconds)) s (\(Int((100 * run.cpuSeconds / seconds).rounded()))% of one core), peak RSS \(Figure.format(Double(run.peakRSSBytes) / 1_048_576)) MiB")
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

    /// `tessera-synth` from the same build as this executable (SwiftPM puts products side by side).
    static func locateSynth() throws -> URL {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let synth = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("tessera-synth")
        guard FileManager.default.isExecutableFile(atPath: synth.path) else {
            throw BenchError.missingInput("no tessera-synth next to tessera-bench (looked for \(synth.path))",
                                          hint: "build both with swift build -c release (a repeated --product builds only the last one)")
        }
        return synth
    }
}
