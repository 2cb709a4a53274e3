// swift-tools-version:6.0
import PackageDescription

// Tessera: whole-slide images → HDF5 tile stores → a CPU CNN trained over MPI → slide predictions.
//
// Layers, bottom up:
//   C libraries (system-library targets, found by pkg-config; shims only for what Swift cannot import)
//   → one thin Swift wrapper per library, the only code that imports C
//   → pure-Swift library modules
//   → thin executables that parse, validate and wire up.

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
        .systemLibrary(name: "COpenSlide", pkgConfig: "openslide",
                       providers: [.apt(["libopenslide-dev"])]),
        // `hdf5-openmpi`, not `hdf5`: the latter is an alternatives link that flips to the serial
        // build when libhdf5-dev is installed; the shim refuses a serial HDF5 at compile time.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-openmpi",
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        // `openblas`, not `blas`: the openblas_* runtime functions exist only there.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4",
                       providers: [.apt(["libtiff-dev"])]),

        // MARK: Wrappers (the only modules that import C)
        .target(name: "OpenSlide", dependencies: ["COpenSlide", "TesseraCore"]),
        .target(name: "HDF5", dependencies: ["CHDF5", "MPI"]),
        .target(name: "MPI", dependencies: ["CMPI"]),
        .target(name: "BLAS", dependencies: ["COpenBLAS"]),
        .target(name: "JPEG", dependencies: ["CTurboJPEG", "TesseraCore"]),
        .target(name: "TIFF", dependencies: ["CTIFF", "TesseraCore"]),

        // MARK: Pure Swift
        .target(name: "TesseraCore"),
        // The resumable sharded task that tiling and prediction share: lock, status, retry, clean-up.
        .target(name: "TaskRunner", dependencies: ["TesseraCore"]),
        .target(name: "SyntheticSlides", dependencies: ["TesseraCore"]),
        .target(name: "Tiling", dependencies: ["TesseraCore"]),
        .target(name: "NeuralNet", dependencies: ["BLAS", "TesseraCore"]),
        .target(name: "TileStore", dependencies: ["HDF5", "JPEG", "TesseraCore"]),
        // The training stage: data-parallel SGD over MPI on parallel-HDF5 tile stores.
        .target(name: "Training", dependencies: ["NeuralNet", "TileStore", "Tiling", "JPEG", "MPI", "HDF5", "BLAS", "TesseraCore"]),
        // The tiling stage wired to the wrappers: slides in, tile stores out.
        .target(name: "Tiler", dependencies: ["Tiling", "OpenSlide", "JPEG", "TileStore", "TaskRunner", "TesseraCore"]),
        // The prediction stage: tile scores → slide and patient predictions, metrics, heatmaps.
        .target(name: "Prediction",
                dependencies: ["Training", "NeuralNet", "Tiler", "Tiling", "TileStore", "OpenSlide", "JPEG", "BLAS", "TaskRunner", "TesseraCore"],
                exclude: ["README-section.md"]),
        // The accuracy benchmark: prediction runs on a realistic synthetic cohort judged against its truth.
        .target(name: "AccuracyBenchmark", dependencies: ["Prediction", "SyntheticSlides", "TesseraCore"]),

        // MARK: Executables
        .executableTarget(name: "tessera-synth", dependencies: [
            "SyntheticSlides", "TIFF", "OpenSlide", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-bench", dependencies: [
            "BLAS", "JPEG", "OpenSlide", "SyntheticSlides", "TIFF", "TesseraCore",
            "NeuralNet", "MPI", "TileStore", "Training", "Prediction",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-tile", dependencies: [
            "Tiler", "Tiling", "TileStore", "TaskRunner", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-train", dependencies: [
            "Training", "NeuralNet", "MPI", "BLAS", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-mpi-check", dependencies: ["MPI", "HDF5", "TesseraCore"]),
        .executableTarget(name: "tessera-audit", dependencies: [
            "TileStore", "JPEG", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-predict", dependencies: [
            "Prediction", "BLAS", "TaskRunner", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tessera-benchmark", dependencies: [
            "AccuracyBenchmark", "SyntheticSlides", "TesseraCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests
        // Shared by the test targets: where the real slides and the built executables are.
        .target(name: "TesseraTestSupport", dependencies: ["TesseraCore"], path: "Tests/TesseraTestSupport"),
        .testTarget(name: "WrapperTests", dependencies: [
            "OpenSlide", "HDF5", "BLAS", "JPEG", "TesseraCore", "TesseraTestSupport", "tessera-bench",
        ]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "TesseraCore", "TesseraTestSupport"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "BLAS", "TesseraCore"]),
        .testTarget(name: "TileStoreTests", dependencies: [
            "TileStore", "tessera-audit", "HDF5", "JPEG", "TesseraCore", "TesseraTestSupport",
        ]),
        .testTarget(name: "TilerTests", dependencies: [
            "Tiler", "Tiling", "TileStore", "OpenSlide", "JPEG", "TaskRunner", "TesseraCore", "TesseraTestSupport",
            "tessera-tile", "tessera-synth", "tessera-audit",
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "NeuralNet", "TileStore", "JPEG", "TesseraCore", "TesseraTestSupport", "tessera-train",
        ]),
        .testTarget(name: "MPITests", dependencies: ["tessera-mpi-check", "TesseraTestSupport"]),
        .testTarget(name: "SlurmTests", dependencies: [
            "TesseraTestSupport", "TileStore", "TesseraCore", "tessera-mpi-check",
            "tessera-synth", "tessera-tile", "tessera-audit", "tessera-train", "tessera-predict",
        ]),
        .testTarget(name: "SyntheticSlidesTests", dependencies: [
            "SyntheticSlides", "TIFF", "tessera-synth", "OpenSlide", "TesseraCore", "TesseraTestSupport",
        ]),
        .testTarget(name: "PredictionTests", dependencies: [
            "Prediction", "Training", "NeuralNet", "TileStore", "JPEG", "TaskRunner", "TesseraCore", "TesseraTestSupport",
            "tessera-predict", "tessera-train", "tessera-tile", "tessera-synth",
        ]),
        .testTarget(name: "AccuracyBenchmarkTests", dependencies: ["AccuracyBenchmark", "Prediction"]),
    ]
)
