import Foundation
import MPI

/// `--timing`: how long MPI_Allreduce of the gradient's element type takes at message sizes from 4 B
/// to 16 MiB: the latency and bandwidth a scaling estimate needs (Slurm/SCALING.md), measured with
/// the collective training uses, between the hosts this job runs on. Every rank takes the same calls.
enum AllreduceTiming {
    /// Float counts: 4 B … 16 MiB, a factor of 16 apart.
    static let counts = [1, 16, 256, 4096, 65_536, 1_048_576, 4_194_304]

    /// One line per size on rank 0: seconds per call (the median of 5 samples, each the mean of
    /// enough calls to take ~20 ms or at least 3) and the ring's bus bandwidth 2(n−1)/n × bytes / time.
    static func run(_ world: MPIWorld) {
        let n = world.size
        for count in counts {
            var buffer = [Float](repeating: 1, count: count)
            world.allreduceSum(&buffer)  // warm-up: connections, buffers
            let calls = max(3, min(1000, (20 << 20) / (count * 4)))
            var samples: [Double] = []
            for _ in 0..<5 {
                world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<calls { world.allreduceSum(&buffer) }
                // Every rank ends with the slowest: the time agreed is the maximum.
                var seconds = [Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(calls)]
                world.allreduceMax(&seconds)
                samples.append(seconds[0])
            }
            let t = samples.sorted()[2]
            let bytes = Double(count * 4)
            let busBandwidth = n > 1 ? 2 * Double(n - 1) / Double(n) * bytes / t : 0
            if world.isRoot {
                print(String(format: "tessera-mpi-check: allreduce %@ on %d ranks: %.1f µs per call, bus bandwidth %.3f GB/s",
                             format(bytes: count * 4), n, t * 1e6, busBandwidth / 1e9))
            }
        }
    }

    static func format(bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 ? "\(bytes >> 10) KiB" : "\(bytes) B"
    }
}
