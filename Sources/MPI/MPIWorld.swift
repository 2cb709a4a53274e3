import CMPI
import Foundation

/// The MPI job this process belongs to (MPI_COMM_WORLD).
///
/// MPI may be initialised once per process and never after finalising, so `MPIWorld` is a
/// process-wide singleton set up by `MPIWorld.initialize()`. Every collective is a method here: a
/// collective that some rank skips hangs the job, so callers must make every rank take the same
/// sequence of calls; on any error a rank calls `abort(message:)`, which ends all ranks.
///
/// Every MPI call's return code is checked. A failing collective cannot be recovered from (the
/// other ranks are inside it or past it), so a failed call aborts the job with MPI's own error
/// string (`failureMessage(call:code:)`). With MPI's default handler an error aborts inside MPI
/// first; the checks matter when a launcher or tool installs MPI_ERRORS_RETURN.
public final class MPIWorld: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    nonisolated(unsafe) private static var shared: MPIWorld?

    private init() {
        comm = cmpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        Self.checkBeforeWorld(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        Self.checkBeforeWorld(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    /// "MPI_Bcast failed (MPI error 8): MPI_ERR_ROOT: invalid root": the call, its code and MPI's
    /// string for it. Only a running MPI gives the string (Open MPI aborts the process when asked
    /// before MPI_Init or after MPI_Finalize); then the message ends at the code.
    public static func failureMessage(call: String, code: Int32) -> String {
        let message = "\(call) failed (MPI error \(code))"
        var initialized: Int32 = 0, finalized: Int32 = 0
        guard MPI_Initialized(&initialized) == cmpi_success(), MPI_Finalized(&finalized) == cmpi_success(),
              initialized != 0, finalized == 0 else { return message }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &text, &length) == cmpi_success(), length > 0 else { return message }
        return message + ": " + String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends this process when a call made before the world exists failed: there is no communicator
    /// to abort yet, and the launcher ends the other ranks when one exits early.
    private static func checkBeforeWorld(_ code: Int32, _ call: String) {
        guard code != cmpi_success() else { return }
        FileHandle.standardError.write("fatal: \(failureMessage(call: call, code: code))\n".data(using: .utf8)!)
        exit(1)
    }

    /// Aborts the job when `code` is an MPI error (see the type's comment).
    private func check(_ code: Int32, _ call: String) {
        guard code != cmpi_success() else { return }
        abort(message: Self.failureMessage(call: call, code: code))
    }

    /// Initialises MPI (funneled threading: only the main thread calls MPI) and returns the world.
    /// Outside `mpirun` this is a singleton job of size 1. Errors in MPI calls abort the whole job
    /// (MPI's default handler), so no rank can be left waiting on a dead peer.
    public static func initialize() -> MPIWorld {
        if let shared { return shared }
        var initialized: Int32 = 0
        checkBeforeWorld(MPI_Initialized(&initialized), "MPI_Initialized")
        if initialized == 0 {
            var provided: Int32 = 0
            checkBeforeWorld(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
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

    public func barrier() { check(MPI_Barrier(comm), "MPI_Barrier") }

    /// How many ranks of this job share this rank's node (its shared-memory domain), from MPI
    /// itself: launcher variables miss cases (`srun -N 2 -n 2` sets neither
    /// OMPI_COMM_WORLD_LOCAL_SIZE nor SLURM_NTASKS_PER_NODE). Collective: every rank must call it.
    public func ranksOnThisNode() -> Int {
        var local = cmpi_comm_world()
        check(MPI_Comm_split_type(comm, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &local), "MPI_Comm_split_type")
        var count: Int32 = 0
        check(MPI_Comm_size(local, &count), "MPI_Comm_size")
        check(MPI_Comm_free(&local), "MPI_Comm_free")
        return Int(count)
    }

    public func finalize() {
        var finalized: Int32 = 0
        check(MPI_Finalized(&finalized), "MPI_Finalized")
        if finalized == 0 { check(MPI_Finalize(), "MPI_Finalize") }
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
        check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), cmpi_float(), cmpi_sum(), comm), "MPI_Allreduce")
    }

    private func allreduce<T>(_ buffer: inout [T], type: MPI_Datatype, op: MPI_Op) {
        let n = buffer.count
        let code = buffer.withUnsafeMutableBytes { raw in
            MPI_Allreduce(cmpi_in_place(), raw.baseAddress, Int32(n), type, op, comm)
        }
        check(code, "MPI_Allreduce")
    }

    public func broadcast(_ buffer: inout [Float], root: Int = 0) { bcast(&buffer, type: cmpi_float(), root: root) }
    public func broadcast(_ buffer: inout [Double], root: Int = 0) { bcast(&buffer, type: cmpi_double(), root: root) }
    public func broadcast(_ buffer: inout [Int32], root: Int = 0) { bcast(&buffer, type: cmpi_int(), root: root) }
    public func broadcast(_ buffer: inout [UInt8], root: Int = 0) { bcast(&buffer, type: cmpi_byte(), root: root) }

    /// Broadcast of a raw float buffer (the network's parameters at start-up).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) {
        precondition(root >= 0 && root < size, "broadcast root \(root) out of range 0..<\(size)")
        guard buffer.count > 0 else { return }
        check(MPI_Bcast(buffer.baseAddress, Int32(buffer.count), cmpi_float(), Int32(root), comm), "MPI_Bcast")
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
        let code = buffer.withUnsafeMutableBytes { raw in
            MPI_Bcast(raw.baseAddress, Int32(n), type, Int32(root), comm)
        }
        check(code, "MPI_Bcast")
    }
}
