/// Why a store file could not be written or read: what went wrong, in which file, and a hint.
public enum TileStoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Not an HDF5 file, cut short, or unreadable; `reason` is HDF5's message.
    case unreadableFile(path: String, reason: String)
    /// An HDF5 file, but not a tile store (no or another `format` attribute).
    case notATileStore(path: String, found: String?)
    /// A tile store of a schema version this code does not read.
    case unsupportedSchemaVersion(path: String, found: Int, supported: Int)
    /// An attribute missing, of the wrong type, or with a value outside its domain.
    case invalidAttribute(path: String, name: String, message: String)
    /// Datasets that contradict each other (lengths differ, offsets past the end of the bytes).
    case inconsistent(path: String, message: String)
    case tileIndexOutOfRange(path: String, index: Int, count: Int)
    /// A tile whose bytes do not decode; `reason` is the JPEG library's message.
    case unreadableTile(path: String, index: Int, reason: String)
    /// JPEG bytes asked of a raw store, or the other way round.
    case wrongEncoding(path: String, expected: TileEncoding, found: TileEncoding)
    /// Merging stores whose tiling parameters differ.
    case incompatibleStores(path: String, source: String, differences: [String])
    /// An HDF5 call failed while reading or writing an otherwise valid file.
    case hdf5(path: String, message: String)
    /// A tile whose stored bytes fail their Fletcher-32 checksum: the file changed after it was written.
    case damagedTile(path: String, index: Int, dataset: String)
    /// Another dataset (tile columns, slide table) that fails its checksum; `message` names it.
    case damagedData(path: String, message: String)
    /// A store file written by a Tessera without checksums (no Fletcher-32 filter on its tiles).
    case writtenWithoutChecksums(path: String)
    /// Store files that the tiler's status records as written are missing (`StoreCompleteness`).
    case incompleteStore(path: String, missing: [String])

    public var path: String {
        switch self {
        case let .unreadableFile(path, _), let .notATileStore(path, _), let .unsupportedSchemaVersion(path, _, _),
             let .invalidAttribute(path, _, _), let .inconsistent(path, _), let .tileIndexOutOfRange(path, _, _),
             let .unreadableTile(path, _, _), let .wrongEncoding(path, _, _), let .incompatibleStores(path, _, _),
             let .hdf5(path, _), let .damagedTile(path, _, _), let .damagedData(path, _), let .writtenWithoutChecksums(path),
             let .incompleteStore(path, _):
            return path
        }
    }

    /// What went wrong, without the path or the hint.
    public var message: String {
        switch self {
        case let .unreadableFile(_, reason):
            return "cannot open as an HDF5 file: \(reason)"
        case let .notATileStore(_, found):
            let what = found.map { "its \(TileStoreSchema.Attribute.format.rawValue) attribute is \"\($0)\"" }
                ?? "it has no \(TileStoreSchema.Attribute.format.rawValue) attribute"
            return "not a Tessera tile store: \(what), expected \"\(TileStoreSchema.format)\""
        case let .unsupportedSchemaVersion(_, found, supported):
            return "tile store schema version \(found), but this build reads version \(supported)"
        case let .invalidAttribute(_, name, message):
            return "attribute \(name): \(message)"
        case let .inconsistent(_, message):
            return "inconsistent tile store: \(message)"
        case let .tileIndexOutOfRange(_, index, count):
            return "tile \(index) does not exist (the file has \(count) tiles)"
        case let .unreadableTile(_, index, reason):
            return "tile \(index) cannot be decoded: \(reason)"
        case let .wrongEncoding(_, expected, found):
            return "the tiles are stored as \(found.rawValue), not \(expected.rawValue)"
        case let .incompatibleStores(_, source, differences):
            return "cannot merge \(source): its tiling parameters differ (\(differences.joined(separator: "; ")))"
        case let .hdf5(_, message):
            return message
        case let .damagedTile(_, index, dataset):
            return "tile \(index) is damaged: its stored bytes fail the Fletcher-32 checksum of /\(dataset) (the file changed after it was written)"
        case let .damagedData(_, message):
            return "damaged file: \(message)"
        case .writtenWithoutChecksums:
            return "written by an older Tessera without checksums (no Fletcher-32 filter on its tiles), so damage to it cannot be detected"
        case let .incompleteStore(_, missing):
            return "the store is incomplete: \(missing.count) item\(missing.count == 1 ? "" : "s") the tiler recorded as written \(missing.count == 1 ? "is" : "are") missing:\n  "
                + missing.joined(separator: "\n  ")
        }
    }

    public var hint: String {
        switch self {
        case .unreadableFile, .unreadableTile:
            return "a file cut short by a killed job is not a valid store: re-run the tiler task that wrote it"
        case .notATileStore:
            return "pass a file written by tessera-tile (STORE/train/part-*.h5, STORE/test/<slide>.h5)"
        case .unsupportedSchemaVersion:
            return "re-tile the slides with this version of tessera-tile, or use the Tessera version that wrote the store"
        case .invalidAttribute, .inconsistent:
            return "the file was written by another tool or damaged: re-run the tiler task that wrote it"
        case .tileIndexOutOfRange:
            return "tile indices run from 0 to the file's tile count − 1"
        case .wrongEncoding:
            return "use image(_:decoder:) to read tiles whatever their encoding"
        case .incompatibleStores:
            return "merge only files written with the same tiling options"
        case .hdf5:
            return "check the disk (space, quota) and the file's permissions"
        case .damagedTile, .damagedData:
            return "do not use this file: restore it from a copy, or re-tile its slides (re-run the tiler task that wrote it with --force)"
        case .writtenWithoutChecksums:
            return "re-tile the slides with this version of tessera-tile"
        case .incompleteStore:
            return "re-run the tiler tasks that wrote the missing files (tessera-tile --shard I --shards N), "
                + "or pass --allow-partial-store to go on without them (what is missing is logged)"
        }
    }

    public var description: String { "\(path): \(message)\nhint: \(hint)" }
}
