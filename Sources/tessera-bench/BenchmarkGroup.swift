import ArgumentParser

/// A group of related figures, run by `tessera-bench` in the order of `BenchmarkGroup.allCases`
/// (or alone with `--only`). To add a group: a case here, its summary, and a type that conforms to
/// `Benchmark` in a file of its own.
enum BenchmarkGroup: String, CaseIterable, ExpressibleByArgument {
    case sgemm
    case jpeg
    case stain
    case synth
    case openslide
    case tiling
    case training
    case prediction

    var summary: String {
        switch self {
        case .sgemm: return "OpenBLAS core; sgemm GFLOP/s (1024³, 3×3-conv im2col), 1 and 2 threads"
        case .jpeg: return "TurboJPEG encode and decode of 512² tiles at q90, 1 thread"
        case .stain: return "Reinhard, Macenko, HED on 256² tiles and in the input pipeline (512²→128², 512²→256², 256²→128²), 1 thread"
        case .synth: return "tessera-synth writing the gigapixel slide: Mpixel/s, peak RSS"
        case .openslide: return "read_region of 512² tiles, 1 and 2 threads, TCGA and gigapixel"
        case .tiling: return "tessera-tile end to end, 1 and 2 threads; gigapixel and TCGA"
        case .training: return "refnet-s 128² training and inference images/s; 2 ranks by mpirun"
        case .prediction: return "scoring the tiled gigapixel slide with refnet-s 128², 1 thread"
        }
    }

    var benchmark: any Benchmark {
        switch self {
        case .sgemm: return SgemmBenchmark()
        case .jpeg: return JPEGBenchmark()
        case .stain: return StainBenchmark()
        case .synth: return SynthBenchmark()
        case .openslide: return OpenSlideBenchmark()
        case .tiling: return TilingBenchmark()
        case .training: return TrainingBenchmark()
        case .prediction: return StoreInferenceBenchmark()
        }
    }

    static var helpList: String {
        allCases.map { "  \($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.summary)" }
            .joined(separator: "\n")
    }
}

/// One group's measurements. It prints its figures through `Figure.emit()` as they are measured, logs
/// how it measured them, and throws if it cannot measure (a missing input it needs, a wrong result).
/// An input that is merely absent (the slides folder) is reported with `BenchContext.skip` instead.
protocol Benchmark {
    func run(in context: BenchContext) throws
}
