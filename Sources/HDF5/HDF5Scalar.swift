import CHDF5

/// Element types that map to a native HDF5 type.
public protocol HDF5Scalar: Sendable { static var hdf5Type: hid_t { get } ; static var zero: Self { get } }
extension UInt8: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_uint8() }; public static var zero: UInt8 { 0 } }
extension Int32: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_int32() }; public static var zero: Int32 { 0 } }
extension Int64: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_int64() }; public static var zero: Int64 { 0 } }
extension UInt64: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_uint64() }; public static var zero: UInt64 { 0 } }
extension Float: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_float() }; public static var zero: Float { 0 } }
extension Double: HDF5Scalar { public static var hdf5Type: hid_t { ch5_native_double() }; public static var zero: Double { 0 } }
