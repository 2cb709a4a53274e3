import CHDF5

/// Attributes on a file (its root group), group or dataset: the store's self-description
/// (schema version, tiling parameters, provenance). In parallel files attribute writes are
/// collective: every rank writes the same value.
public enum HDF5AttributeValue: Equatable, Sendable {
    case int(Int64)
    case double(Double)
    case string(String)
    case doubles([Double])
    case ints([Int64])
    case strings([String])
}

extension HDF5Location {
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue) throws {
        if H5Aexists(locationID, name) > 0 {
            try HDF5Errors.check(H5Adelete(locationID, name), "H5Adelete(\(name))", filePath)
        }
        switch value {
        case let .int(v): try writeAttribute(name, [v], type: ch5_native_int64(), scalar: true)
        case let .double(v): try writeAttribute(name, [v], type: ch5_native_double(), scalar: true)
        case let .doubles(v): try writeAttribute(name, v, type: ch5_native_double(), scalar: false)
        case let .ints(v): try writeAttribute(name, v, type: ch5_native_int64(), scalar: false)
        case let .string(s): try writeStringAttribute(name, [s], scalar: true)
        case let .strings(s): try writeStringAttribute(name, s, scalar: false)
        }
    }

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(locationID, name) > 0 }

    public func attribute(_ name: String) throws -> HDF5AttributeValue {
        let attr = try HDF5Errors.check(id: H5Aopen(locationID, name, ch5_default()), "H5Aopen(\(name))", filePath)
        defer { H5Aclose(attr) }
        let type = H5Aget_type(attr)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        let scalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        let n = Int(H5Sget_simple_extent_npoints(space))
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var v = [Int64](repeating: 0, count: n)
            try HDF5Errors.check(H5Aread(attr, ch5_native_int64(), &v), "H5Aread(\(name))", filePath)
            return scalar ? .int(v[0]) : .ints(v)
        case H5T_FLOAT:
            var v = [Double](repeating: 0, count: n)
            try HDF5Errors.check(H5Aread(attr, ch5_native_double(), &v), "H5Aread(\(name))", filePath)
            return scalar ? .double(v[0]) : .doubles(v)
        case H5T_STRING:
            if H5Tis_variable_str(type) > 0 {
                // h5py's default for `f.attrs['x'] = 'text'`: read so files made elsewhere open.
                let strings = try readVariableStrings(attr, count: n, name: name)
                return scalar ? .string(strings[0]) : .strings(strings)
            }
            let width = H5Tget_size(type)
            let mem = try fixedStringType(width)
            defer { H5Tclose(mem) }
            var bytes = [UInt8](repeating: 0, count: width * n)
            try HDF5Errors.check(H5Aread(attr, mem, &bytes), "H5Aread(\(name))", filePath)
            let strings = FixedStrings.unpack(bytes, width: width, count: n)
            return scalar ? .string(strings[0]) : .strings(strings)
        default:
            throw HDF5Error(call: "H5Aread(\(name))", path: filePath, stack: ["unsupported attribute type class"])
        }
    }

    /// Variable-length string values (Tessera writes fixed-length ones; other tools write these).
    private func readVariableStrings(_ attr: hid_t, count n: Int, name: String) throws -> [String] {
        let mem = try HDF5Errors.check(id: H5Tcopy(ch5_c_s1()), "H5Tcopy", filePath)
        defer { H5Tclose(mem) }
        // H5T_VARIABLE is (size_t)-1, a cast Swift does not import.
        try HDF5Errors.check(H5Tset_size(mem, Int(bitPattern: UInt.max)), "H5Tset_size(variable)", filePath)
        try HDF5Errors.check(H5Tset_cset(mem, H5T_CSET_UTF8), "H5Tset_cset", filePath)
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
        try HDF5Errors.check(H5Aread(attr, mem, &pointers), "H5Aread(\(name))", filePath)
        defer { for p in pointers { H5free_memory(p) } }
        return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }

    // Typed conveniences that name the attribute in their error.
    public func stringAttribute(_ name: String) throws -> String {
        guard case let .string(s) = try attribute(name) else { throw typeMismatch(name, "a string") }
        return s
    }
    public func intAttribute(_ name: String) throws -> Int64 {
        guard case let .int(v) = try attribute(name) else { throw typeMismatch(name, "an integer") }
        return v
    }
    public func doubleAttribute(_ name: String) throws -> Double {
        switch try attribute(name) {
        case let .double(v): return v
        case let .int(v): return Double(v)
        default: throw typeMismatch(name, "a number")
        }
    }
    public func stringsAttribute(_ name: String) throws -> [String] {
        switch try attribute(name) {
        case let .strings(s): return s
        case let .string(s): return [s]
        default: throw typeMismatch(name, "a list of strings")
        }
    }
    public func doublesAttribute(_ name: String) throws -> [Double] {
        switch try attribute(name) {
        case let .doubles(v): return v
        case let .double(v): return [v]
        default: throw typeMismatch(name, "a list of numbers")
        }
    }

    private func typeMismatch(_ name: String, _ expected: String) -> HDF5Error {
        HDF5Error(call: "attribute \(name)", path: filePath, stack: ["attribute is not \(expected)"],
                  hint: "the file was written by another schema version or tool")
    }

    private func writeAttribute<V>(_ name: String, _ values: [V], type: hid_t, scalar: Bool) throws {
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, [hsize_t(values.count)], nil)
        defer { H5Sclose(space) }
        let attr = try HDF5Errors.check(id: H5Acreate2(locationID, name, type, space, ch5_default(), ch5_default()),
                                        "H5Acreate(\(name))", filePath)
        defer { H5Aclose(attr) }
        _ = try values.withUnsafeBytes { raw in
            try HDF5Errors.check(H5Awrite(attr, type, raw.baseAddress), "H5Awrite(\(name))", filePath)
        }
    }

    private func writeStringAttribute(_ name: String, _ values: [String], scalar: Bool) throws {
        let width = max(1, values.map { $0.utf8.count }.max() ?? 1)
        let type = try fixedStringType(width)
        defer { H5Tclose(type) }
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, [hsize_t(values.count)], nil)
        defer { H5Sclose(space) }
        let attr = try HDF5Errors.check(id: H5Acreate2(locationID, name, type, space, ch5_default(), ch5_default()),
                                        "H5Acreate(\(name))", filePath)
        defer { H5Aclose(attr) }
        let bytes = FixedStrings.pack(values, width: width)
        try HDF5Errors.check(H5Awrite(attr, type, bytes), "H5Awrite(\(name))", filePath)
    }
}
