import MPI
import XCTest

/// A failed MPI call is reported with the call and its code; under a running MPI also with MPI's
/// own string for the code (checked on every rank by tessera-mpi-check, `ParallelHDF5Tests`).
final class MPIErrorMessageTests: XCTestCase {
    /// Before MPI_Init, Open MPI aborts the process when asked for an error string: the message
    /// must not ask.
    func testFailureMessageBeforeInitNamesTheCallAndCode() {
        XCTAssertEqual(MPIWorld.failureMessage(call: "MPI_Init_thread", code: 8), "MPI_Init_thread failed (MPI error 8)")
    }
}
