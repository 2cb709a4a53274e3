import HDF5

extension HDF5Error {
    /// The error without its path (a `TileStoreError` names the file once) or its generic hint.
    var summary: String {
        var s = "HDF5 \(call) failed"
        if let top = stack.first { s += ": \(top)" }
        if stack.count > 1, let root = stack.last { s += " (cause: \(root))" }
        return s
    }
}

/// Runs `body`, turning an HDF5 failure into a `TileStoreError` naming `path`: a checksum failure
/// into `.damagedData` (naming the dataset through the failed call), anything else into `.hdf5`.
func withStoreErrors<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as HDF5Error {
        if error.isChecksumMismatch {
            throw TileStoreError.damagedData(path: path, message: "\(error.call) failed: a chunk fails its Fletcher-32 checksum")
        }
        throw TileStoreError.hdf5(path: path, message: error.summary)
    }
}
