import CHDF5

/// An n-dimensional dataset of `T`. Reads and writes take a hyperslab (offset and count per
/// dimension) or, for reads, a list of rows (a point selection over the first dimension).
public final class HDF5Dataset<T: HDF5Scalar> {
    private let handle: HDF5Handle
    public let name: String
    public let filePath: String
    public let parallel: Bool
    var id: hid_t { handle.id }

    init(id: hid_t, name: String, in parent: HDF5Location) {
        // Closing a dataset cannot lose data (the file's close flushes), so release closes it.
        handle = HDF5Handle(id: id, what: "dataset \(name) of \(parent.filePath)", release: H5Dclose)
        self.name = name
        self.filePath = parent.filePath
        self.parallel = parent.parallel
        parent.registry.add(handle)
    }

    private var what: String { "dataset \(name)" }

    func checkElementType() throws {
        let fileType = try HDF5Errors.check(id: H5Dget_type(id), "H5Dget_type(\(name))", filePath)
        defer { H5Tclose(fileType) }
        if H5Tequal(fileType, T.hdf5Type) <= 0 {
            let size = H5Tget_size(fileType)
            throw HDF5Error(call: "H5Dopen(\(name))", path: filePath,
                            stack: ["dataset has element type of size \(size) bytes (class \(H5Tget_class(fileType).rawValue)), expected \(T.self)"],
                            hint: "the file was written by another schema version or tool")
        }
    }

    /// Whether the dataset's chunks carry Fletcher-32 checksums (see `createDataset(checksum:)`).
    public var hasChecksum: Bool {
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { _ = HDF5Errors.currentStack(); return false }
        defer { H5Pclose(dcpl) }
        for i in 0..<max(0, H5Pget_nfilters(dcpl)) {
            var flags: UInt32 = 0, elements = 0, config: UInt32 = 0
            var name = [CChar](repeating: 0, count: 64)
            if H5Pget_filter2(dcpl, UInt32(i), &flags, &elements, nil, name.count, &name, &config) == H5Z_FILTER_FLETCHER32 {
                return true
            }
        }
        return false
    }

    /// The current extent.
    public var shape: [Int] {
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.prefix(rank).map { Int($0) }
    }

    /// Grows (or shrinks) an extendible dataset. Collective in parallel files.
    public func setExtent(_ newShape: [Int]) throws {
        try HDF5Errors.check(H5Dset_extent(id, newShape.map { hsize_t($0) }), "H5Dset_extent(\(name))", filePath)
    }

    private func selection(offset: [Int], count: [Int]) throws -> (file: hid_t, memory: hid_t) {
        let current = shape
        precondition(offset.count == current.count && count.count == current.count,
                     "\(what): selection rank \(offset.count) differs from dataset rank \(current.count)")
        for d in 0..<current.count {
            precondition(offset[d] >= 0 && count[d] >= 0 && offset[d] + count[d] <= current[d],
                         "\(what): selection \(offset)+\(count) outside extent \(current)")
        }
        let fileSpace = try HDF5Errors.check(id: H5Dget_space(id), "H5Dget_space(\(name))", filePath)
        let total = count.reduce(1, *)
        if total == 0 {
            // A rank with nothing to transfer still joins a collective call, selecting nothing.
            H5Sselect_none(fileSpace)
            let mem = H5Screate(H5S_NULL)
            return (fileSpace, mem)
        }
        try HDF5Errors.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset.map { hsize_t($0) }, nil,
                                                 count.map { hsize_t($0) }, nil), "H5Sselect_hyperslab(\(name))", filePath)
        let mem = try HDF5Errors.check(id: H5Screate_simple(1, [hsize_t(total)], nil), "H5Screate_simple", filePath)
        return (fileSpace, mem)
    }

    /// Writes `values` (row-major, `count` shaped) at `offset`. For parallel files `collective`
    /// decides the transfer mode; every rank must call a collective write, with an empty count if
    /// it has nothing to write.
    public func write(_ values: [T], offset: [Int], count: [Int], collective: Bool = true) throws {
        precondition(values.count == count.reduce(1, *), "\(what): \(values.count) values for a selection of \(count)")
        let (fileSpace, memSpace) = try selection(offset: offset, count: count)
        defer { H5Sclose(fileSpace); H5Sclose(memSpace) }
        let dxpl = try transferList(collective: collective)
        defer { H5Pclose(dxpl) }
        _ = try values.withUnsafeBytes { raw in
            try HDF5Errors.check(H5Dwrite(id, T.hdf5Type, memSpace, fileSpace, dxpl, raw.baseAddress),
                                 "H5Dwrite(\(name))", filePath)
        }
    }

    public func read(offset: [Int], count: [Int], collective: Bool = false) throws -> [T] {
        let (fileSpace, memSpace) = try selection(offset: offset, count: count)
        defer { H5Sclose(fileSpace); H5Sclose(memSpace) }
        let dxpl = try transferList(collective: collective)
        defer { H5Pclose(dxpl) }
        return try Self.filled(count: count.reduce(1, *)) { raw in
            try HDF5Errors.check(H5Dread(id, T.hdf5Type, memSpace, fileSpace, dxpl, raw), "H5Dread(\(name))", filePath)
        }
    }

    /// An array of `count` elements filled by `read` straight into its storage: no zero-fill first
    /// (a generic `[T](repeating:count:)` is not specialised across modules and cost more than the read).
    static func filled(count: Int, _ read: (UnsafeMutableRawPointer) throws -> Void) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { try read(UnsafeMutableRawPointer(buffer.baseAddress!)) }
            initialized = count
        }
    }

    public func readAll(collective: Bool = false) throws -> [T] {
        let s = shape
        return try read(offset: [Int](repeating: 0, count: s.count), count: s, collective: collective)
    }

    /// Reads whole rows (first-dimension indices, in the given order) with one point/hyperslab
    /// union selection: how a training rank reads its own shuffled tiles and nobody else's.
    public func readRows(_ rows: [Int], collective: Bool = false) throws -> [T] {
        let s = shape
        let rowSize = s.dropFirst().reduce(1, *)
        // HDF5 returns a union selection in file order, not in the order asked for: read sorted
        // unique rows, then scatter into the requested order.
        let unique = Array(Set(rows)).sorted()
        guard !unique.isEmpty else { return [] }
        precondition(unique.first! >= 0 && unique.last! < s[0], "\(what): row out of range 0..<\(s[0])")
        let fileSpace = try HDF5Errors.check(id: H5Dget_space(id), "H5Dget_space(\(name))", filePath)
        defer { H5Sclose(fileSpace) }
        H5Sselect_none(fileSpace)
        var block = [hsize_t](repeating: 0, count: s.count)
        var start = [hsize_t](repeating: 0, count: s.count)
        for d in 1..<s.count { block[d] = hsize_t(s[d]) }
        var i = 0
        while i < unique.count {
            var j = i
            while j + 1 < unique.count && unique[j + 1] == unique[j] + 1 { j += 1 }
            start[0] = hsize_t(unique[i])
            block[0] = hsize_t(j - i + 1)
            try HDF5Errors.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_OR, start, nil, block, nil),
                                 "H5Sselect_hyperslab(\(name))", filePath)
            i = j + 1
        }
        let memSpace = try HDF5Errors.check(id: H5Screate_simple(1, [hsize_t(unique.count * rowSize)], nil), "H5Screate_simple", filePath)
        defer { H5Sclose(memSpace) }
        let dxpl = try transferList(collective: collective)
        defer { H5Pclose(dxpl) }
        let sorted = try Self.filled(count: unique.count * rowSize) { raw in
            try HDF5Errors.check(H5Dread(id, T.hdf5Type, memSpace, fileSpace, dxpl, raw), "H5Dread(\(name))", filePath)
        }
        if unique == rows { return sorted }
        var position: [Int: Int] = [:]
        for (k, r) in unique.enumerated() { position[r] = k }
        return try Self.filled(count: rows.count * rowSize) { raw in
            let dst = raw.assumingMemoryBound(to: T.self)
            sorted.withUnsafeBufferPointer { src in
                for (k, r) in rows.enumerated() {
                    (dst + k * rowSize).initialize(from: src.baseAddress! + position[r]! * rowSize, count: rowSize)
                }
            }
        }
    }

    private func transferList(collective: Bool) throws -> hid_t {
        try HDF5Transfer.propertyList(parallel: parallel, collective: collective, path: filePath)
    }
}
