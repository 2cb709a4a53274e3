import ArgumentParser
import Foundation
import HDF5
import MPI
import TesseraCLI
import TesseraCore

/// tessera-mpi-check: checks that MPI collectives and parallel HDF5 (MPI-IO) work on this machine or
/// cluster, before a long training job finds out. Every rank computes what every collective must give
/// and compares; any mismatch aborts the whole job with a message.
@main
struct MPICheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-mpi-check",
        abstract: "Check MPI collectives and parallel HDF5 (MPI-IO) on this machine or cluster.",
        discussion: """
            Run it under the MPI launcher with the ranks a training job will use.

            Examples:
              mpirun -np 2 tessera-mpi-check
              mpirun --oversubscribe -np 4 tessera-mpi-check --dir /scratch/$USER
              srun --mpi=pmix tessera-mpi-check --dir $SLURM_SUBMIT_DIR
              mpirun -np 2 tessera-mpi-check --abort-on-rank 1    # one failing rank must end the job
              srun --mpi=pmix -N 2 --ntasks-per-node=1 tessera-mpi-check --timing   # latency, bandwidth between 2 nodes

            Exit status: 0 when every check passed on every rank; non-zero when any failed; 64 bad options.
            """,
        version: TesseraVersion.line("tessera-mpi-check"))

    @Option(help: ArgumentHelp("Where to write the parallel HDF5 test file (default: the current directory); use the shared file system your jobs will use.",
                               valueName: "dir"))
    var dir: String?

    @Option(help: "Rank K fails on purpose after the checks: the whole job must end with a non-zero status within seconds, not hang.")
    var abortOnRank: Int?

    @Flag(help: "After the checks, time MPI_Allreduce from 4 B to 16 MiB: latency and bandwidth between the ranks' hosts.")
    var timing = false

    var directory: String { dir ?? FileManager.default.currentDirectoryPath }

    func validate() throws {
        if let problem = OptionCheck.folder("--dir", directory, fix: "create it or pass another") { throw ValidationError(problem) }
        if let abortOnRank, abortOnRank < 0 { throw ValidationError("--abort-on-rank needs a rank number ≥ 0") }
    }

    func run() throws {
        let world = MPIWorld.initialize()
        Log.program = "tessera-mpi-check[\(world.rank)]"
        let r = world.rank, n = world.size

        func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
            if !ok { world.abort(message: "check failed: \(what())") }
        }

        // Allreduce, in place, for each element type; values chosen so the sums are exact.
        var floats = (0..<1000).map { Float($0 % 97) * Float(r + 1) }
        world.allreduceSum(&floats)
        let rankFactor = Float(n * (n + 1) / 2)
        for (i, v) in floats.enumerated() { expect(v == Float(i % 97) * rankFactor, "float allreduce at \(i): \(v)") }
        var doubles = [Double(r) + 0.5, Double(r * r)]
        world.allreduceSum(&doubles)
        expect(doubles[0] == Double(n * (n - 1) / 2) + 0.5 * Double(n), "double allreduce \(doubles)")
        expect(doubles[1] == Double((n - 1) * n * (2 * n - 1) / 6), "double allreduce squares \(doubles)")
        var ints: [Int32] = [1, Int32(r)]
        world.allreduceSum(&ints)
        expect(ints == [Int32(n), Int32(n * (n - 1) / 2)], "int allreduce \(ints)")
        var maxima = [Double(r)]
        world.allreduceMax(&maxima)
        expect(maxima == [Double(n - 1)], "max allreduce \(maxima)")

        // A failed call would be reported with MPI's own words for its code (8: MPI_ERR_ROOT).
        let report = MPIWorld.failureMessage(call: "MPI_Bcast", code: 8)
        expect(report.hasPrefix("MPI_Bcast failed (MPI error 8): ") && report.count > 32, "MPI error string: \(report)")

        // Broadcast of a length only the root knows.
        let message = world.broadcast(bytes: r == 0 ? Array("tessera \(n) ranks".utf8) : [])
        expect(String(decoding: message, as: UTF8.self) == "tessera \(n) ranks", "broadcast")
        var weights = r == 0 ? (0..<257).map { Float($0) * 0.25 } : [Float](repeating: -1, count: 257)
        world.broadcast(&weights)
        expect(weights == (0..<257).map { Float($0) * 0.25 }, "float broadcast")

        // Parallel HDF5: collective create; each rank writes its own rows of a 2-D dataset (rows of
        // 512 bytes, like tile data) and its slice of an extendible 1-D dataset; collective close; then a
        // collective re-open where each rank reads another rank's rows.
        let path = URL(fileURLWithPath: directory).appendingPathComponent("tessera-mpi-check-\(n).h5").path
        let rowsPerRank = 37 + 0  // deliberately not a power of two
        let width = 512
        func rowValue(_ row: Int, _ col: Int) -> UInt8 { UInt8(truncatingIfNeeded: row &* 31 &+ col &* 7) }
        do {
            let file = try HDF5File.create(path: path, access: .parallel(world))
            let tiles = try file.createDataset("tiles", of: UInt8.self, shape: [rowsPerRank * n, width], chunk: [1, width])
            let first = r * rowsPerRank
            var mine = [UInt8](repeating: 0, count: rowsPerRank * width)
            for i in 0..<rowsPerRank { for c in 0..<width { mine[i * width + c] = rowValue(first + i, c) } }
            try tiles.write(mine, offset: [first, 0], count: [rowsPerRank, width], collective: true)
            // Extendible: grow collectively, then only odd ranks write (even ranks join with an empty selection).
            let labels = try file.createDataset("labels", of: Int32.self, shape: [0], maxShape: [nil], chunk: [64])
            try labels.setExtent([rowsPerRank * n])
            let count = r % 2 == 1 ? rowsPerRank : 0
            try labels.write((0..<count).map { Int32(first + $0) }, offset: [first], count: [count], collective: true)
            try file.setAttribute("ranks", .int(Int64(n)))
            try file.setAttribute("kind", .string("tessera-mpi-check"))
            try file.close()
            world.barrier()

            let again = try HDF5File.open(path: path, access: .parallel(world))
            let peer = (r + 1) % n
            let read = try again.openDataset("tiles", of: UInt8.self)
                .read(offset: [peer * rowsPerRank, 0], count: [rowsPerRank, width], collective: true)
            for i in 0..<rowsPerRank {
                for c in 0..<width where read[i * width + c] != rowValue(peer * rowsPerRank + i, c) {
                    world.abort(message: "parallel HDF5 read of rank \(peer)'s row \(i) differs at column \(c)")
                }
            }
            // Scattered rows in a shuffled order (a training rank's shard).
            let wanted = [5, 3, rowsPerRank * n - 1, 0, 3]
            let rows = try again.openDataset("tiles", of: UInt8.self).readRows(wanted)
            for (k, row) in wanted.enumerated() { expect(rows[k * width + 9] == rowValue(row, 9), "readRows row \(row)") }
            let allLabels = try again.openDataset("labels", of: Int32.self).readAll(collective: true)
            // Only odd ranks wrote; the rest is unwritten (no fill values: parallel files skip them).
            for (i, v) in allLabels.enumerated() where (i / rowsPerRank) % 2 == 1 {
                expect(v == Int32(i), "labels[\(i)] = \(v)")
            }
            expect(allLabels.count == rowsPerRank * n, "labels extent \(allLabels.count)")
            expect(try again.intAttribute("ranks") == Int64(n), "attribute ranks")
            try again.close()
        } catch {
            world.abort(message: "\(error)")
        }
        world.barrier()
        if r == 0 { try? FileManager.default.removeItem(atPath: path) }

        if let k = abortOnRank, k == r {
            world.abort(message: "failing on purpose (--abort-on-rank \(k))", code: 3)
        }
        if timing { AllreduceTiming.run(world) }
        world.barrier()
        if r == 0 { print("tessera-mpi-check: OK: \(n) ranks, allreduce, broadcast and parallel HDF5 verified") }
        world.finalize()
    }
}
