import CHDF5

/// Something that holds groups, datasets and attributes: a file or a group.
public protocol HDF5Location: AnyObject {
    var locationID: hid_t { get }
    var filePath: String { get }
    var parallel: Bool { get }
    var registry: HDF5Registry { get }
}

extension HDF5Location {
    public func exists(_ name: String) -> Bool {
        // H5Lexists fails on a missing intermediate group; treat that as "no".
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            if H5Lexists(locationID, prefix, ch5_default()) <= 0 {
                _ = HDF5Errors.currentStack()
                return false
            }
        }
        return true
    }

    public func createGroup(_ name: String) throws -> HDF5Group {
        let id = try HDF5Errors.check(id: H5Gcreate2(locationID, name, ch5_default(), ch5_default(), ch5_default()),
                                      "H5Gcreate(\(name))", filePath)
        return HDF5Group(id: id, name: name, in: self)
    }

    public func openGroup(_ name: String) throws -> HDF5Group {
        let id = try HDF5Errors.check(id: H5Gopen2(locationID, name, ch5_default()), "H5Gopen(\(name))", filePath)
        return HDF5Group(id: id, name: name, in: self)
    }

    /// Creates an n-dimensional dataset. `maxShape` entries of nil are unlimited (extendible, which
    /// needs `chunk`). `fill: false` skips writing fill values at allocation (parallel files allocate
    /// early and would otherwise write the whole dataset once at create time). `checksum: true` adds
    /// HDF5's Fletcher-32 filter (needs `chunk`): every chunk carries a checksum that the library
    /// verifies on every read, so a damaged chunk fails the read (`HDF5Error.isChecksumMismatch`)
    /// instead of returning wrong bytes. Parallel files can write filtered chunks only collectively.
    public func createDataset<T: HDF5Scalar>(_ name: String, of _: T.Type, shape: [Int], maxShape: [Int?]? = nil,
                                             chunk: [Int]? = nil, fill: Bool = false, checksum: Bool = false) throws -> HDF5Dataset<T> {
        precondition(!shape.isEmpty, "dataset \(name): a shape needs at least one dimension")
        let dims = shape.map { hsize_t($0) }
        let maxDims = (maxShape ?? shape).map { $0.map { hsize_t($0) } ?? ch5_unlimited() }
        precondition(maxDims.count == dims.count, "dataset \(name): maxShape rank differs from shape rank")
        let space = try HDF5Errors.check(id: H5Screate_simple(Int32(dims.count), dims, maxDims), "H5Screate_simple", filePath)
        defer { H5Sclose(space) }
        let dcpl = try HDF5Errors.check(id: H5Pcreate(ch5_dataset_create()), "H5Pcreate(dataset create)", filePath)
        defer { H5Pclose(dcpl) }
        if let chunk {
            precondition(chunk.count == dims.count && chunk.allSatisfy { $0 > 0 }, "dataset \(name): bad chunk \(chunk)")
            try HDF5Errors.check(H5Pset_chunk(dcpl, Int32(chunk.count), chunk.map { hsize_t($0) }), "H5Pset_chunk", filePath)
        } else {
            precondition(maxShape == nil || maxShape!.allSatisfy { $0 != nil }, "dataset \(name): unlimited dimensions need a chunk shape")
        }
        if checksum {
            precondition(chunk != nil, "dataset \(name): a checksum (Fletcher-32 filter) needs a chunk shape")
            try HDF5Errors.check(H5Pset_fletcher32(dcpl), "H5Pset_fletcher32(\(name))", filePath)
        }
        if !fill {
            try HDF5Errors.check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "H5Pset_fill_time", filePath)
        }
        let id = try HDF5Errors.check(id: H5Dcreate2(locationID, name, T.hdf5Type, space, ch5_default(), dcpl, ch5_default()),
                                      "H5Dcreate(\(name))", filePath)
        return HDF5Dataset(id: id, name: name, in: self)
    }

    public func openDataset<T: HDF5Scalar>(_ name: String, of _: T.Type) throws -> HDF5Dataset<T> {
        let id = try HDF5Errors.check(id: H5Dopen2(locationID, name, ch5_default()), "H5Dopen(\(name))", filePath)
        let dataset = HDF5Dataset<T>(id: id, name: name, in: self)
        try dataset.checkElementType()
        return dataset
    }

    /// Writes a whole 1-D dataset in one call (serial files, or every rank writing the same data
    /// collectively: only rank 0's selection is non-empty in that case — see `HDF5Dataset.write`).
    /// `checksum: true` stores it as one Fletcher-32-checked chunk unless `chunk` says otherwise.
    public func writeDataset<T: HDF5Scalar>(_ name: String, _ values: [T], chunk: Int? = nil, checksum: Bool = false) throws {
        let chunkShape = chunk ?? (checksum ? max(1, values.count) : nil)
        let ds = try createDataset(name, of: T.self, shape: [values.count], chunk: chunkShape.map { [$0] }, checksum: checksum)
        try ds.write(values, offset: [0], count: [values.count])
    }

    public func readDataset<T: HDF5Scalar>(_ name: String, of _: T.Type) throws -> [T] {
        try openDataset(name, of: T.self).readAll()
    }

    // MARK: Strings (fixed-length UTF-8, which parallel HDF5 can write and h5py reads as bytes)

    /// A 1-D dataset of strings; `checksum: true` stores it as one Fletcher-32-checked chunk.
    public func writeStrings(_ name: String, _ values: [String], checksum: Bool = false) throws {
        let width = max(1, values.map { $0.utf8.count }.max() ?? 1)
        let type = try fixedStringType(width)
        defer { H5Tclose(type) }
        let dims = [hsize_t(values.count)]
        let space = try HDF5Errors.check(id: H5Screate_simple(1, dims, nil), "H5Screate_simple", filePath)
        defer { H5Sclose(space) }
        let dcpl = try HDF5Errors.check(id: H5Pcreate(ch5_dataset_create()), "H5Pcreate(dataset create)", filePath)
        defer { H5Pclose(dcpl) }
        if checksum {
            try HDF5Errors.check(H5Pset_chunk(dcpl, 1, [hsize_t(max(1, values.count))]), "H5Pset_chunk", filePath)
            try HDF5Errors.check(H5Pset_fletcher32(dcpl), "H5Pset_fletcher32(\(name))", filePath)
        }
        let id = try HDF5Errors.check(id: H5Dcreate2(locationID, name, type, space, ch5_default(), dcpl, ch5_default()),
                                      "H5Dcreate(\(name))", filePath)
        defer { H5Dclose(id) }
        if values.isEmpty { return }
        let bytes = FixedStrings.pack(values, width: width)
        let dxpl = try transferList(collective: true)
        defer { H5Pclose(dxpl) }
        try HDF5Errors.check(H5Dwrite(id, type, ch5_s_all(), ch5_s_all(), dxpl, bytes), "H5Dwrite(\(name))", filePath)
    }

    public func readStrings(_ name: String) throws -> [String] {
        let id = try HDF5Errors.check(id: H5Dopen2(locationID, name, ch5_default()), "H5Dopen(\(name))", filePath)
        defer { H5Dclose(id) }
        let fileType = try HDF5Errors.check(id: H5Dget_type(id), "H5Dget_type(\(name))", filePath)
        defer { H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_STRING, H5Tis_variable_str(fileType) == 0 else {
            throw HDF5Error(call: "readStrings(\(name))", path: filePath, stack: ["dataset is not a fixed-length string dataset"])
        }
        let width = H5Tget_size(fileType)
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let n = Int(H5Sget_simple_extent_npoints(space))
        if n == 0 { return [] }
        let memType = try fixedStringType(width)
        defer { H5Tclose(memType) }
        var bytes = [UInt8](repeating: 0, count: width * n)
        let dxpl = try transferList(collective: true)
        defer { H5Pclose(dxpl) }
        try HDF5Errors.check(H5Dread(id, memType, ch5_s_all(), ch5_s_all(), dxpl, &bytes), "H5Dread(\(name))", filePath)
        return FixedStrings.unpack(bytes, width: width, count: n)
    }

    func fixedStringType(_ width: Int) throws -> hid_t {
        let type = try HDF5Errors.check(id: H5Tcopy(ch5_c_s1()), "H5Tcopy", filePath)
        try HDF5Errors.check(H5Tset_size(type, width), "H5Tset_size", filePath)
        try HDF5Errors.check(H5Tset_strpad(type, H5T_STR_NULLPAD), "H5Tset_strpad", filePath)
        try HDF5Errors.check(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset", filePath)
        return type
    }

    func transferList(collective: Bool) throws -> hid_t {
        try HDF5Transfer.propertyList(parallel: parallel, collective: collective, path: filePath)
    }
}

/// A group inside a file.
public final class HDF5Group: HDF5Location {
    private let handle: HDF5Handle
    public let name: String
    public let filePath: String
    public let parallel: Bool
    public let registry: HDF5Registry
    public var locationID: hid_t { handle.id }

    init(id: hid_t, name: String, in parent: HDF5Location) {
        handle = HDF5Handle(id: id, what: "group \(name) of \(parent.filePath)", release: H5Gclose)
        self.name = name
        self.filePath = parent.filePath
        self.parallel = parent.parallel
        self.registry = parent.registry
        registry.add(handle)
    }
}

/// Data-transfer property lists: collective or independent MPI-IO for parallel files, the
/// default for serial ones.
enum HDF5Transfer {
    static func propertyList(parallel: Bool, collective: Bool, path: String) throws -> hid_t {
        let dxpl = try HDF5Errors.check(id: H5Pcreate(ch5_dataset_xfer()), "H5Pcreate(transfer)", path)
        if parallel {
            try HDF5Errors.check(H5Pset_dxpl_mpio(dxpl, collective ? ch5_mpio_collective() : ch5_mpio_independent()),
                                 "H5Pset_dxpl_mpio", path)
        }
        return dxpl
    }
}

/// Fixed-length, NUL-padded strings (datasets and attributes), `width` bytes each.
enum FixedStrings {
    static func pack(_ values: [String], width: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: width * max(values.count, 1))
        for (i, v) in values.enumerated() { for (j, b) in v.utf8.enumerated() { bytes[i * width + j] = b } }
        return bytes
    }

    static func unpack(_ bytes: [UInt8], width: Int, count: Int) -> [String] {
        (0..<count).map { i in
            let row = bytes[(i * width)..<((i + 1) * width)]
            let end = row.firstIndex(of: 0) ?? row.endIndex
            return String(decoding: row[row.startIndex..<end], as: UTF8.self)
        }
    }
}
