/// The collective calls a `DataParallelStep` makes. `MPIWorld` under `mpirun` (or as a singleton
/// job); `SingleProcess` where there is no MPI at all (tessera-bench's one-rank figures, unit tests).
public protocol Collectives: AnyObject {
    var size: Int { get }
    /// In-place sum over all ranks.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    func allreduceSum(_ buffer: inout [Double])
}

extension MPIWorld: Collectives {}

/// One process alone: every sum is its own value.
public final class SingleProcess: Collectives {
    public init() {}
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    public func allreduceSum(_ buffer: inout [Double]) {}
}
