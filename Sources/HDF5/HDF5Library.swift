import CHDF5
import Glibc

/// When the HDF5 library shuts down.
///
/// HDF5 1.10 normally shuts itself down in an `atexit` handler. But when closing a written file
/// fails (its flush hit a full disk, a quota, an I/O error), the library frees the file yet keeps
/// its id, and that shutdown then dereferences the freed file: exit status 139 instead of the
/// error already reported. So Tessera shuts HDF5 down itself at exit, and skips it once a close
/// has failed (nothing is lost: every written file is closed explicitly, and the failed one is
/// discarded anyway).
enum HDF5Library {
    nonisolated(unsafe) private static var prepared = false
    /// Set when a file's close failed: the library's state can no longer be shut down safely.
    nonisolated(unsafe) static var closeFailed = false

    /// Must run before the library initialises itself (the first HDF5 call).
    static func prepare() {
        if prepared { return }
        prepared = true
        if H5dont_atexit() >= 0 {
            atexit {
                if !HDF5Library.closeFailed { H5close() }
            }
        }
    }
}
