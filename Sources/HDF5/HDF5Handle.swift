import CHDF5

/// An open HDF5 object id (group, dataset) that closes itself when released.
///
/// A file cannot be closed while objects in it are open (parallel files refuse outright), and
/// Swift decides when the last reference to a dataset goes away. So the file keeps weak references
/// to its objects' handles and closes whatever is still open before closing itself; using an object
/// after its file was closed is then a caught bug, not a stale id.
final class HDF5Handle {
    private let rawID: hid_t
    private let release: (hid_t) -> herr_t
    private(set) var isOpen = true
    let what: String

    init(id: hid_t, what: String, release: @escaping (hid_t) -> herr_t) {
        self.rawID = id
        self.what = what
        self.release = release
    }

    var id: hid_t {
        precondition(isOpen, "\(what) used after its file was closed")
        return rawID
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        _ = release(rawID)
    }

    deinit { close() }
}

/// The objects opened in one file, weakly held (opaque: an implementation detail of closing files).
public final class HDF5Registry {
    private struct Weak { weak var handle: HDF5Handle? }
    private var handles: [Weak] = []

    func add(_ handle: HDF5Handle) {
        handles.removeAll { $0.handle == nil }
        handles.append(Weak(handle: handle))
    }

    func closeAll() {
        for w in handles { w.handle?.close() }
        handles.removeAll()
    }
}
