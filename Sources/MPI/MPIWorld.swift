import CMPI
import Foundation

/// The MPI job this process belongs to (MPI_COMM_WORLD).
///
/// MPI may be initialised once per process and never after finalising, so `MPIWorld` is a
/// process-wide singleton set up by `MPIWorld.initialize()`. Every collective is a method here: a
/// collective that some rank skips hangs the job, so callers must make every rank take the same
/// sequence of calls; on any error a rank calls `abort(message:)`, which ends all ranks.
public final class MPIWorld: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    nonisolated(unsafe) private static var shared: MPIWorld?

    private init() {
        comm = cmpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Initialises MPI (funneled threading: only the main thread calls MPI) and returns the world.
    /// Outside `mpirun` this is a singleton job of size 1. Errors in MPI calls abort the whole job
    /// (MPI's default handler), so no rank can be left waiting on a dead peer.
    public static func initialize() -> MPIWorld {
        if let shared { return shared }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
        }
        let world = MPIWorld()
        shared = world
        return world
    }

    /// Whether this process was started by an MPI launcher (mpirun, srun --mpi=pmix), without initialising.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil || env["PMI_RANK"] != nil
    }

    public var isRoot: Bool { rank == 0 }

    /// The raw communicator, for the HDF5 wrapper's MPI-IO driver.
    public var communicator: MPI_Comm { comm }

    public func barrier() { MPI_Barrier(comm) }

    public func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Ends every rank of the job with `code`, after printing `message` (with this rank) to stderr.
    public func abort(message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write("rank \(rank)/\(size): fatal: \(message)\n".data(using: .utf8)!)
        // mpirun forwards a rank's stderr asynchronously and MPI_Abort kills at once: give the
        // message a moment to reach the job's output, or the user sees only "MPI_ABORT was invoked".
        if size > 1 { Thread.sleep(forTimeInterval: 0.5) }
        MPI_Abort(comm, code)
        exit(code)
    }

    // MARK: Collectives

    public func allreduceSum(_ buffer: inout [Float]) { allreduce(&buffer, type: cmpi_float(), op: cmpi_sum()) }
    public func allreduceSum(_ buffer: inout [Double]) { allreduce(&buffer, type: cmpi_double(), op: cmpi_sum()) }
    public func allreduceSum(_ buffer: inout [Int32]) { allreduce(&buffer, type: cmpi_int(), op: cmpi_sum()) }
    public func allreduceSum(_ buffer: inout [Int64]) { allreduce(&buffer, type: cmpi_int64(), op: cmpi_sum()) }
    public func allreduceMax(_ buffer: inout [Double]) { allreduce(&buffer, type: cmpi_double(), op: cmpi_max()) }
    public func allreduceMax(_ buffer: inout [Int64]) { allreduce(&buffer, type: cmpi_int64(), op: cmpi_max()) }
    public func allreduceMin(_ buffer: inout [Int64]) { allreduce(&buffer, type: cmpi_int64(), op: cmpi_min()) }

    /// In-place sum over a raw float buffer (the training loop's gradient buffer).
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), cmpi_float(), cmpi_sum(), comm)
    }

    private func allreduce<T>(_ buffer: inout [T], type: MPI_Datatype, op: MPI_Op) {
        let n = buffer.count
        buffer.withUnsafeMutableBytes { raw in
            _ = MPI_Allreduce(cmpi_in_place(), raw.baseAddress, Int32(n), type, op, comm)
        }
    }

    public func broadcast(_ buffer: inout [Float], root: Int = 0) { bcast(&buffer, type: cmpi_float(), root: root) }
    public func broadcast(_ buffer: inout [Double], root: Int = 0) { bcast(&buffer, type: cmpi_double(), root: root) }
    public func broadcast(_ buffer: inout [Int32], root: Int = 0) { bcast(&buffer, type: cmpi_int(), root: root) }
    public func broadcast(_ buffer: inout [UInt8], root: Int = 0) { bcast(&buffer, type: cmpi_byte(), root: root) }

    /// Broadcast of a raw float buffer (the network's parameters at start-up).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) {
        precondition(root >= 0 && root < size, "broadcast root \(root) out of range 0..<\(size)")
        guard buffer.count > 0 else { return }
        MPI_Bcast(buffer.baseAddress, Int32(buffer.count), cmpi_float(), Int32(root), comm)
    }

    /// Broadcasts bytes whose length only the root knows (e.g. a serialised config).
    public func broadcast(bytes: [UInt8], root: Int = 0) -> [UInt8] {
        var count: [Int32] = [Int32(rank == root ? bytes.count : 0)]
        broadcast(&count, root: root)
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        broadcast(&buffer, root: root)
        return buffer
    }

    private func bcast<T>(_ buffer: inout [T], type: MPI_Datatype, root: Int) {
        precondition(root >= 0 && root < size, "broadcast root \(root) out of range 0..<\(size)")
        let n = buffer.count
        buffer.withUnsafeMutableBytes { raw in
            _ = MPI_Bcast(raw.baseAddress, Int32(n), type, Int32(root), comm)
        }
    }
}
