// swift-tools-version:6.0
import PackageDescription

// Tessera: whole-slide images → HDF5 tile stores → a CPU CNN trained over MPI → slide predictions.
//
// Layers, bottom up:
//   C libraries (system-library targets, found by pkg-config; shims only for what Swift cannot import)
//   → one thin Swift wrapper per library, the only code that imports C
//   → pure-Swift library modules
//   → thin executables that parse, validate and wire up (sharing TesseraCLI, which only they import).

// StainKernelsV3's code generation (top-level code runs in order: defined before `package` uses it).
#if arch(x86_64)
let v3Settings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
#else
let v3Settings: [SwiftSetting] = []
#endif

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tessera-synth", targets: ["tessera-synth"]),
        .executable(name: "tessera-tile", targets: ["tessera-tile"]),
        .executable(name: "tessera-train", targets: ["tessera-train"]),
        .executable(name: "tessera-bench", targets: ["tessera-bench"]),
        .executable(name: "tessera-audit", targets: ["tessera-audit"]),
        .executable(name: "tessera-predict", targets: ["tessera-predict"]),
        .executable(name: "tessera-benchmark", targets: ["tessera-benchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C libraries (Debian's -dev packages)
        cLibrary("COpenSlide", pkgConfig: "openslide", apt: "libopenslide-dev"),
        // `hdf5-openmpi`, not `hdf5`: the latter is an alternatives link that flips to the serial
        // build when libhdf5-dev is installed; the shim refuses a serial HDF5 at compile time.
        cLibrary("CHDF5", pkgConfig: "hdf5-openmpi", apt: "libhdf5-openmpi-dev"),
        cLibrary("CMPI", pkgConfig: "ompi-c", apt: "libopenmpi-dev"),
        // `openblas`, not `blas`: the openblas_* runtime functions exist only there.
        cLibrary("COpenBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        cLibrary("CTurboJPEG", pkgConfig: "libturbojpeg", apt: "libturbojpeg0-dev"),
        cLibrary("CTIFF", pkgConfig: "libtiff-4", apt: "libtiff-dev"),

        // MARK: Wrappers (the only modules that import C)
        .target(name: "OpenSlide", dependencies: ["COpenSlide", "TesseraCore"]),
        .target(name: "HDF5", dependencies: ["CHDF5", "MPI"]),
        .target(name: "MPI", dependencies: ["CMPI"]),
        .target(name: "BLAS", dependencies: ["COpenBLAS"]),
        .target(name: "JPEG", dependencies: ["CTurboJPEG", "TesseraCore"]),
        .target(name: "TIFF", dependencies: ["CTIFF"]),

        // MARK: Pure Swift, shared
        // Errors, logging, atomic files, CSV, RGB images, field-by-field comparison, the version.
        .target(name: "TesseraCore", plugins: ["GitCommitPlugin"]),
        // Writes the git commit into TesseraCore at build time, for `--version` and provenance.
        .plugin(name: "GitCommitPlugin", capability: .buildTool(), path: "Sources/GitCommitPlugin"),
        // The resumable sharded task that tiling and prediction share: lock, status, retry, clean-up.
        .target(name: "TaskRunner", dependencies: ["TesseraCore"]),
        // Synthetic pyramidal slides (tissue textures, scan profiles) for tests and demos.
        .target(name: "SyntheticSlides", dependencies: ["TesseraCore"]),
        // Pure tiling logic: TilingSpec (how tiles are cut), tiling plan, tissue mask, manifests, patient split.
        .target(name: "Tiling", dependencies: ["Pictures", "TesseraCore"]),
        // The CNN: layers, forward/backward, optimisers, on OpenBLAS.
        .target(name: "NeuralNet", dependencies: ["BLAS", "TesseraCore"]),
        // The tile store schema: HDF5 files of tiles and slide tables, their reader, writer and audit.
        .target(name: "TileStore", dependencies: ["HDF5", "JPEG", "Tiling", "TesseraCore"]),
        // Pictures that explain themselves: a 5×7 bitmap font, text, legends (swatches, colour bar,
        // scale bar) on RGB images — for heatmaps and QC pictures, with no font library.
        .target(name: "Pictures", dependencies: ["TesseraCore"]),
        // Cutting tiles from an open slide by a TilingSpec (threads, tissue mask, encoding): what the
        // tiler and the predictor share.
        .target(name: "SlideTiles", dependencies: ["Tiling", "OpenSlide", "TIFF", "JPEG", "TesseraCore"]),
        // The contract between training and prediction: the model file, its archive format, the
        // input pipeline and normalisation, and whether a model fits a store.
        // Stain normalisation (Reinhard, Macenko) and HED augmentation on RGB tiles: pure Swift on
        // tables, no C; below Model so that the input pipeline, the trainer's reference fit and
        // tessera-bench share one implementation.
        .target(name: "Stain", dependencies: ["StainKernels", "StainKernelsV3", "TesseraCore"]),
        // Reinhard's per-pixel kernels, `@inlinable` on pointers: one source that each caller
        // compiles for its own CPU target.
        .target(name: "StainKernels"),
        // The same kernels compiled for x86-64-v3 (AVX2, FMA: every CPU we run on), which Stain
        // calls only where the CPU and OS have them (StainKernelPath). Unsafe flag: SwiftPM has no
        // setting for a target CPU; `-Xcc -march`, as Swift takes its code generation's CPU from
        // the Clang importer (`-target-cpu x86-64-v3` is refused there); x86_64 hosts only.
        .target(name: "StainKernelsV3", dependencies: ["StainKernels"], swiftSettings: v3Settings),
        // Feature stores (per-slide HDF5 files of tile embeddings and level-0 coordinates, the layout
        // CLAM and h5py users expect): what the embedding writer and the MIL stage share.
        .target(name: "FeatureStore", dependencies: ["HDF5", "Tiling", "TesseraCore"]),
        .target(name: "Model", dependencies: ["NeuralNet", "TileStore", "Tiling", "JPEG", "Stain", "TesseraCore"]),

        // MARK: Stages (siblings: a stage never imports another stage)
        // The tiling stage wired to the wrappers: slides in, tile stores out.
        .target(name: "Tiler", dependencies: ["SlideTiles", "Tiling", "OpenSlide", "JPEG", "TileStore", "TaskRunner", "TesseraCore"]),
        // The training stage: data-parallel SGD over MPI on parallel-HDF5 tile stores.
        .target(name: "Training", dependencies: ["Model", "Stain", "NeuralNet", "TileStore", "Tiling", "JPEG", "MPI", "HDF5", "BLAS", "TesseraCore"]),
        // The prediction stage: tile scores → slide and patient predictions, metrics, heatmaps.
        .target(name: "Prediction",
                dependencies: ["Model", "Stain", "SlideTiles", "NeuralNet", "Tiling", "TileStore", "FeatureStore", "OpenSlide", "JPEG", "BLAS",
                               "TaskRunner", "Pictures", "TesseraCore"]),
        // The slide-level stage: gated attention MIL on feature stores, data-parallel over MPI.
        .target(name: "SlideMIL", dependencies: ["FeatureStore", "Model", "NeuralNet", "MPI", "BLAS", "TesseraCore"]),
        // The accuracy benchmark: prediction runs on a realistic synthetic cohort judged against its
        // truth (above the stages, like the programs: it reads the predictor's outputs).
        .target(name: "AccuracyBenchmark", dependencies: ["Prediction", "SyntheticSlides", "Pictures", "JPEG", "TesseraCore"]),

        // MARK: Executables
        // What only the programs share: job files, Slurm array tasks, the shared options, exit statuses.
        .target(name: "TesseraCLI", dependencies: [
            "TesseraCore", "TaskRunner", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-synth", dependencies: program("SyntheticSlides", "TIFF")),
        .executableTarget(name: "tessera-bench", dependencies: program(
            "BLAS", "JPEG", "OpenSlide", "TIFF", "SlideTiles", "Tiling", "NeuralNet", "MPI", "TileStore", "Model", "Stain", "Training", "Prediction"
        )),
        .executableTarget(name: "tessera-tile", dependencies: program("Tiler", "SlideTiles", "Tiling", "TileStore")),
        .executableTarget(name: "tessera-train", dependencies: program("Training", "Stain", "SlideTiles", "Tiling", "Model", "MPI", "BLAS")),
        .executableTarget(name: "tessera-mpi-check", dependencies: program("MPI", "HDF5")),
        .executableTarget(name: "tessera-audit", dependencies: program("TileStore", "FeatureStore")),
        .executableTarget(name: "tessera-predict", dependencies: program("Prediction", "Model", "BLAS")),
        .executableTarget(name: "tessera-mil", dependencies: program("SlideMIL", "FeatureStore", "MPI", "BLAS")),
        .executableTarget(name: "tessera-benchmark", dependencies: program("AccuracyBenchmark", "SyntheticSlides")),

        // MARK: Tests
        // Shared by the test targets: where the real slides and the built executables are.
        .target(name: "TesseraTestSupport", path: "Tests/TesseraTestSupport"),
        .testTarget(name: "WrapperTests", dependencies: [
            "OpenSlide", "HDF5", "BLAS", "JPEG", "TesseraCore", "TesseraTestSupport", "tessera-bench",
        ]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "SyntheticSlides", "TesseraCore", "TesseraTestSupport"]),
        .testTarget(name: "TesseraCLITests", dependencies: [
            "TesseraCLI", "TesseraCore", "TesseraTestSupport", "NeuralNet", "TileStore",
            "tessera-tile", "tessera-train", "tessera-predict", "tessera-audit", "tessera-synth", "tessera-bench", "tessera-mpi-check",
            "tessera-benchmark", "tessera-mil",
        ]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "BLAS", "TesseraCore"]),
        .testTarget(name: "ModelTests", dependencies: [
            "Model", "Stain", "NeuralNet", "TileStore", "Tiling", "TesseraCore", "TesseraTestSupport",
        ]),
        .testTarget(name: "TileStoreTests", dependencies: [
            "TileStore", "Tiling", "tessera-audit", "HDF5", "JPEG", "TesseraCore", "TesseraTestSupport",
        ]),
        .testTarget(name: "TilerTests", dependencies: [
            "Tiler", "Tiling", "TileStore", "OpenSlide", "JPEG", "TaskRunner", "TesseraCore", "TesseraTestSupport",
            "SlideTiles", "Stain", "TIFF", "tessera-tile", "tessera-synth", "tessera-audit",
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "Model", "NeuralNet", "TileStore", "Tiling", "JPEG", "MPI", "TesseraCore", "TesseraTestSupport", "Stain", "tessera-train", "tessera-synth",
        ]),
        .testTarget(name: "MPITests", dependencies: ["MPI", "tessera-mpi-check", "TesseraTestSupport"]),
        .testTarget(name: "SlurmTests", dependencies: [
            "TesseraTestSupport", "TileStore", "Model", "Tiling", "TesseraCore", "tessera-mpi-check",
            "tessera-synth", "tessera-tile", "tessera-audit", "tessera-train", "tessera-predict",
        ]),
        .testTarget(name: "SyntheticSlidesTests", dependencies: [
            "SyntheticSlides", "TIFF", "tessera-synth", "OpenSlide", "TesseraCore", "TesseraTestSupport",
        ]),
        .testTarget(name: "PredictionTests", dependencies: [
            "Prediction", "Pictures", "Model", "Stain", "NeuralNet", "TileStore", "Tiling", "JPEG", "TaskRunner", "TesseraCore", "TesseraTestSupport",
            "tessera-predict", "tessera-train", "tessera-tile", "tessera-synth", "tessera-bench",
        ]),
        .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "HDF5", "TesseraCore", "TesseraTestSupport"]),
        .testTarget(name: "SlideMILTests", dependencies: [
            "SlideMIL", "FeatureStore", "NeuralNet", "MPI", "TileStore", "TesseraCore", "TesseraTestSupport",
            "tessera-mil", "tessera-predict", "tessera-synth", "tessera-tile", "tessera-train", "tessera-audit",
        ]),
        .testTarget(name: "AccuracyBenchmarkTests", dependencies: ["AccuracyBenchmark", "Prediction", "SyntheticSlides", "Pictures", "JPEG", "TesseraCore"]),
        .testTarget(name: "StainTests", dependencies: ["Stain", "StainKernels", "TesseraCore"]),
    ]
)

/// An executable's dependencies: its own, then what every program shares (it parses, validates and
/// wires up with TesseraCLI and swift-argument-parser).
func program(_ own: Target.Dependency...) -> [Target.Dependency] {
    own + ["TesseraCore", "TesseraCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
}

/// A C library found by pkg-config, with the Debian package that provides it.
func cLibrary(_ name: String, pkgConfig: String, apt package: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([package])])
}
