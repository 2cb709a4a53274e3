import BLAS
import Foundation
import MPI
import NeuralNet
import TesseraCore
import Training

/// The CNN on synthetic data, trained by the shipped `DataParallelStep` (`SyntheticTraining`):
/// training images/s of refnet-s at 128² with batch 32 per rank on
/// 1 rank × 1 thread, 1 rank × 2 threads and 2 ranks × 1 thread (two processes under `mpirun`, see
/// `MPITrainingWorker`), the allreduce's cost, inference images/s at batch 64, and the GFLOP/s these
/// reach next to the sgemm peak.
struct TrainingBenchmark: Benchmark {
    static let model = "refnet-s"
    static let inputSize = 128
    static let classes = 3
    static let seed: UInt64 = 1
    static let trainBatch = 32
    static let inferenceBatch = 64
    static let threadCounts = [1, 2]

    static let trainingTarget = Target.atLeast(40, "images/s", "on one core")
    static let speedupTarget = Target.atLeast(1.8, "×", "for 2 ranks × 1 thread")
    static let inferenceTarget = Target.atLeast(190, "images/s", "on one core")
    static let allreduceTarget = Target.below(5, "%", "of step time")

    static func makeNetwork() throws -> Network {
        try Network(model: model, classes: classes, inputSize: inputSize, seed: seed)
    }

    /// Steps per sample and samples of every training figure (the MPI ranks use it too).
    static func trainingLength(quick: Bool) -> (steps: Int, samples: Int) {
        quick ? (2, 2) : (4, 5)
    }

    func run(in context: BenchContext) throws {
        let network = try Self.makeNetwork()
        let flops = network.flopsPerImage
        Log.info("\(Self.model) at \(Self.inputSize)², \(Self.classes) classes: \(network.parameterCount) parameters, "
                 + "\(Figure.format(Double(flops.forward) / 1e9)) GFLOP per image forward, \(Figure.format(Double(flops.training) / 1e9)) per training image; OpenBLAS core \(BLASRuntime.coreName)")
        let threadsBefore = BLASRuntime.threads
        defer { BLASRuntime.setThreads(threadsBefore) }
        let (steps, samples) = Self.trainingLength(quick: context.quick)

        // One rank without MPI: the trainer's step with nothing to exchange.
        let training = try Self.byThreads("training", target: Self.trainingTarget, figure: "train_refnet_s128_b32_r1_t",
                                          detail: { "batch \(Self.trainBatch), 1 rank × \($0)" }, how: "\(steps) steps per sample",
                                          rates: {
            try SyntheticTraining(network: network, collectives: SingleProcess(), batch: Self.trainBatch, rank: 0).rates(steps: steps, samples: samples)
        })

        let ranks = try Self.twoRankTraining(context)
        let total = Samples(ranks.imagesPerSecond)
        let speedup = total.median / training[1]!.median
        let share = Samples(ranks.allreduceSharePercent)
        let allreduce = Samples(ranks.gradientAllreduceMilliseconds)
        let coresBusy = ranks.cpu.coresBusy
        // Per CPU second, scaling loss in the code shows apart from cores the machine did not give.
        let oneRankPerCPU = training[1]!.median / max(training[1]!.cpu?.coresBusy ?? 1, 1e-9)
        let twoRanksPerCPU = total.median / max(coresBusy, 1e-9)
        Log.info("training \(Self.model) \(Self.inputSize)², batch \(Self.trainBatch) per rank, \(ranks.ranks) ranks × 1 thread under mpirun: "
                 + "\(total.summary("images/s")) over all ranks; \(ranks.cpu.summary) (all ranks); "
                 + "speedup over 1 rank × 1 thread \(Figure.format(speedup))×, \(Self.speedupTarget.verdict(speedup)); "
                 + "per CPU second \(Figure.format(twoRanksPerCPU)) images on 2 ranks vs \(Figure.format(oneRankPerCPU)) on 1 "
                 + "(speedup if the machine gave both cores: \(Figure.format(2 * twoRanksPerCPU / oneRankPerCPU))×)")
        let stepMilliseconds = 1000 * Double(Self.trainBatch * ranks.ranks) / total.median
        Log.info("allreduce in the training step (gradients \(Figure.format(Double(ranks.gradientBytes) / 1_048_576)) MiB, scale, loss sums; "
                 + "includes waiting for the slower rank): \(share.summary("% of step time")); \(Self.allreduceTarget.verdict(share.median)); "
                 + "gradient allreduce alone: \(allreduce.summary("ms")) (a sample is one call), "
                 + "\(Figure.format(100 * allreduce.median / stepMilliseconds)) % of a \(Figure.format(stepMilliseconds)) ms step: the rest is mostly waiting for the slower rank")
        Figure("train_refnet_s128_b32_r2_t1", total.median, "images/s").emit()
        Figure("train_r2_speedup", speedup, "x").emit()
        Figure("allreduce_share_r2", share.median, "%").emit()
        Figure("allreduce_refnet_grad_ms", allreduce.median, "ms").emit()

        let inference = Self.byThreads("inference", target: Self.inferenceTarget, figure: "infer_refnet_s128_b64_t",
                                       detail: { "batch \(Self.inferenceBatch), \($0)" }, how: "\(network.inferenceSchedule) schedule",
                                       rates: {
            NetworkBenchmark.inferenceRates(network: network, batch: Self.inferenceBatch, batches: steps, samples: samples)
        })

        let peak = try Self.sgemmPeak(context)
        let trainGFLOPS = training[1]!.median * Double(flops.training) / 1e9
        let inferGFLOPS = inference[1]!.median * Double(flops.forward) / 1e9
        for (what, gflops) in [("training", trainGFLOPS), ("inference", inferGFLOPS)] {
            Log.info("\(what) on 1 thread reaches \(Figure.format(gflops)) GFLOP/s, \(Int((100 * gflops / peak).rounded()))% of the sgemm 1024³ peak on 1 thread "
                     + "(\(Figure.format(peak)) GFLOP/s); counted as direct convolutions, while Winograd layers do up to 2.25× fewer, so above 100% is possible")
        }
        Figure("train_gflops_r1_t1", trainGFLOPS, "GFLOP/s").emit()
        Figure("infer_gflops_t1", inferGFLOPS, "GFLOP/s").emit()
    }

    /// `rates` (images/s) on each of `threadCounts` OpenBLAS threads, with the CPU use it took:
    /// one line each (`detail` given the thread count), the 1-thread one judged by `target`, and a
    /// figure named `figure` + thread count.
    static func byThreads(_ what: String, target: Target, figure: String, detail: (Int) -> String, how: String,
                          rates: () throws -> [Double]) rethrows -> [Int: Samples] {
        var result: [Int: Samples] = [:]
        for threads in threadCounts {
            BLASRuntime.setThreads(threads)
            var use = CPUUse()
            var figures: [Double] = []
            _ = try Measure.seconds({ figures = try rates() }, accountingTo: &use)
            let rate = Samples(figures, cpu: use)
            let verdict = threads == 1 ? "; \(target.verdict(rate.median))" : ""
            Log.info("\(what) \(model) \(inputSize)², \(detail(threads)) thread\(threads == 1 ? "" : "s"), \(how): \(rate.summary("images/s"))\(verdict)")
            Figure("\(figure)\(threads)", rate.median, "images/s").emit()
            result[threads] = rate
        }
        return result
    }

    /// sgemm 1024³ GFLOP/s on 1 thread: the sgemm group's figure, or measured once here (and
    /// printed under the sgemm group's name) when that group did not run.
    static func sgemmPeak(_ context: BenchContext) throws -> Double {
        if let peak = context.sgemmPeak[1] { return peak }
        let gflops = try SgemmBenchmark.measure(SgemmBenchmark.peakShape, threads: 1, samples: 3, minSampleSeconds: 0.25)
        Figure("sgemm_\(SgemmBenchmark.peakShape.name)_t1", gflops.median, "GFLOP/s").emit()
        context.sgemmPeak[1] = gflops.median
        return gflops.median
    }

    /// Two ranks of this executable under `mpirun`, one OpenBLAS thread each.
    static func twoRankTraining(_ context: BenchContext) throws -> MPITrainingWorker.Result {
        let mpirun = try ChildProcess.onPath("mpirun", hint: "install Open MPI (apt-get install -y openmpi-bin) or put its bin folder on PATH")
        let result = context.workDirectory.appendingPathComponent("training-2-ranks.json")
        try? FileManager.default.removeItem(at: result)
        var arguments = ["--oversubscribe", "-np", "2", ChildProcess.currentExecutable.path, "--mpi-training-worker", result.path]
        if context.quick { arguments.append("--quick") }
        // The child inherits OPENBLAS_CORETYPE from this process's re-exec (BLASRuntime), so the ranks
        // start on the fast kernels without re-executing themselves.
        let job = ChildProcess(executable: mpirun, arguments: arguments,
                               environmentOverrides: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"])
        Log.info("training on 2 ranks: \(job.commandLine)")
        let outcome = try job.run()
        guard outcome.succeeded else {
            throw BenchError.toolFailed("mpirun \(outcome.ending) running the 2-rank training",
                                        hint: "the ranks' messages are above; run the command shown to reproduce (a hostname containing '_' breaks mpirun)")
        }
        Log.info("mpirun with 2 ranks: \(Figure.format(outcome.wallSeconds)) s in all (start-up included), \(outcome.cpuSummary)")
        guard let data = try? Data(contentsOf: result) else {
            throw BenchError.toolFailed("mpirun exited 0 but rank 0 wrote no \(result.path)", hint: "its messages are above")
        }
        let decoded = try JSONDecoder().decode(MPITrainingWorker.Result.self, from: data)
        guard decoded.ranks == 2 else {
            throw BenchError.wrongResult("the training under mpirun -np 2 ran on \(decoded.ranks) rank(s)",
                                         hint: "each rank ran alone (singleton MPI): is tessera-bench linked against the Open MPI that this mpirun belongs to?")
        }
        return decoded
    }
}
