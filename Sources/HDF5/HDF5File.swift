import CHDF5
import MPI

/// An HDF5 file, opened for serial access or for parallel access through MPI-IO.
///
/// Closing a written file can fail (it flushes), so it is an explicit `close() throws`; a writable
/// file released without `close()` is still closed, but a flush error would be lost, so that is
/// reported as a bug. A read-only file has nothing to lose and may simply be released.
///
/// With `.parallel`, every call that changes the file's structure (create/open/close, dataset
/// creation, extent changes, attribute writes) is collective: every rank must make it, in the same
/// order, with the same arguments. Data transfers may be collective or independent.
public final class HDF5File: HDF5Location, @unchecked Sendable {
    public enum Access {
        case serial
        case parallel(MPIWorld)
    }
    public enum Mode { case readOnly, readWrite }

    public let path: String
    public let isParallel: Bool
    let id: hid_t
    private var closed = false
    private let writable: Bool

    public var locationID: hid_t { id }
    public var filePath: String { path }
    public var parallel: Bool { isParallel }
    public let registry = HDF5Registry()

    private init(path: String, id: hid_t, parallel: Bool, writable: Bool) {
        self.path = path
        self.writable = writable
        self.id = id
        self.isParallel = parallel
    }

    private static func accessList(_ access: Access, path: String) throws -> hid_t {
        HDF5Errors.silenceAutoPrinting()
        let fapl = try HDF5Errors.check(id: H5Pcreate(ch5_file_access()), "H5Pcreate(file access)", path)
        if case let .parallel(world) = access {
            try HDF5Errors.check(H5Pset_fapl_mpio(fapl, world.communicator, ch5_mpi_info_null()), "H5Pset_fapl_mpio", path)
        }
        return fapl
    }

    /// Creates a file, replacing any existing one at `path` (callers write to a temporary name).
    public static func create(path: String, access: Access = .serial) throws -> HDF5File {
        let fapl = try accessList(access, path: path)
        defer { H5Pclose(fapl) }
        let id = try HDF5Errors.check(id: H5Fcreate(path, ch5_acc_trunc(), ch5_default(), fapl), "H5Fcreate", path)
        return HDF5File(path: path, id: id, parallel: isParallel(access), writable: true)
    }

    private static func isParallel(_ access: Access) -> Bool {
        if case .parallel = access { return true }
        return false
    }

    public static func open(path: String, mode: Mode = .readOnly, access: Access = .serial) throws -> HDF5File {
        let fapl = try accessList(access, path: path)
        defer { H5Pclose(fapl) }
        // H5Fis_accessible gives a clearer message for "not an HDF5 file" than H5Fopen's stack.
        let accessible = H5Fis_hdf5(path)
        if accessible <= 0 {
            let stack = HDF5Errors.currentStack()
            throw HDF5Error(call: "H5Fopen", path: path, stack: accessible == 0 ? ["not an HDF5 file"] : (stack.isEmpty ? ["cannot read the file"] : stack),
                            hint: "check the path; a file cut short by a killed job is not a valid store — re-run the job that writes it")
        }
        let flags = mode == .readOnly ? ch5_acc_rdonly() : ch5_acc_rdwr()
        let id = try HDF5Errors.check(id: H5Fopen(path, flags, fapl), "H5Fopen", path)
        return HDF5File(path: path, id: id, parallel: isParallel(access), writable: mode == .readWrite)
    }

    /// Flushes and closes. Collective for parallel files.
    public func close() throws {
        guard !closed else { return }
        closed = true
        registry.closeAll()
        let status = H5Fclose(id)
        if status < 0 { HDF5Library.closeFailed = true }
        try HDF5Errors.check(status, "H5Fclose", path)
    }

    deinit {
        guard !closed else { return }
        // Closing a parallel file is collective. Released without close() means this rank is
        // unwinding from an error while the others may be in another collective: closing here
        // would hang the job instead of letting the error abort it. Leave it to process exit.
        if isParallel { return }
        registry.closeAll()
        if H5Fclose(id) < 0 { HDF5Library.closeFailed = true }
        assert(!writable, "HDF5File \(path) released without close(): flush errors would be lost")
    }
}
