import Tiling

/// The tile store: the folder that `tessera-tile` writes and the trainer, the predictor and
/// `tessera-audit` read. Schema version 1.
///
/// ## The folder
/// ```
/// STORE/
///   splits.csv                      patient_id,split (train | validation | test), one line per patient
///   train/part-0003-of-0008.h5      one file per (split, array task) for train and validation
///   validation/part-0003-of-0008.h5
///   test/<slide_id>.h5              one file per slide for the test split
///   failures/task-0003-of-0008.csv  slide_id,slide_path,stage,message: slides the tiler gave up on
///   status/...                      the tiler's resume state
/// ```
/// Files appear complete or not at all: each is written under a hidden temporary name
/// (`.NAME.tmp-PID`) and renamed into place when finished.
///
/// ## Each .h5 file
/// Root attributes (the file describes itself; every file of one store carries the same tiling
/// parameters):
///
/// | attribute              | type      | meaning                                                        |
/// |------------------------|-----------|----------------------------------------------------------------|
/// | `schema_version`       | int       | 1                                                              |
/// | `format`               | string    | `tessera-tile-store`                                           |
/// | `split`                | string    | `train`, `validation` or `test`                                |
/// | `classes`              | strings   | class names in order; tile and slide labels index this list   |
/// | `tile_size`            | int       | tile side in pixels (tiles are square)                         |
/// | `encoding`             | string    | `jpeg` or `raw`                                                |
/// | `jpeg_quality`         | int       | JPEG quality 1–100; 0 for raw                                  |
/// | `target_mpp`           | double    | µm per tile pixel asked for; −1 when tiled by `--level`        |
/// | `target_magnification` | double    | objective power asked for (e.g. 20); −1 when not given         |
/// | `level`                | int       | pyramid level read when tiled by `--level`; −1 otherwise       |
/// | `background_threshold` | double    | luminance (0–255) above which a pixel counts as background     |
/// | `tissue_rule`          | string    | `luminance` or `otsu` (saturation, per slide); absent = luminance |
/// | `qc`                   | string    | artefact checks run, comma-separated from `pen`, `blur`, `fold`, `bubble`, or `none`; absent = none |
/// | `pen_max`, `blur_min`  | double    | largest ink fraction kept; smallest focus measure kept          |
/// | `fold_max`, `bubble_max` | double  | largest share of doubly-dark tissue blocks kept; longest bubble rim kept (pixels); absent = the defaults |
/// | `blur_block_min`       | double    | smallest focus measure of a 128² block (at least half tissue) kept; 0 or absent = no block rule |
/// | `max_background`       | double    | tiles with a larger background fraction were dropped           |
/// | `split_seed`           | int       | seed of the patient split (a UInt64 stored by bit pattern)     |
/// | `split_fractions`      | doubles   | [train, validation, test] fractions of patients                |
/// | `tessera_version`      | string    | version of the tiler that wrote the file                       |
/// | `created`              | string    | ISO 8601 UTC time the file was started                         |
/// | `task`                 | int       | array task that wrote the file (0-based)                       |
/// | `task_count`           | int       | number of array tasks                                          |
///
/// Tiles, N of them, in slide order (the tiles of one slide are contiguous):
///
/// | dataset             | type            | shape              | meaning                                            |
/// |---------------------|-----------------|--------------------|----------------------------------------------------|
/// | `/tiles/jpeg`       | uint8           | [total bytes]      | jpeg only: every tile's JPEG bytes, concatenated; chunks of 256 KiB |
/// | `/tiles/offset`     | int64           | [N]                | jpeg only: where tile i's bytes start in `/tiles/jpeg` |
/// | `/tiles/length`     | int64           | [N]                | jpeg only: how many bytes tile i has               |
/// | `/tiles/raw`        | uint8           | [N, tile, tile, 3] | raw only: RGB pixels, rows top to bottom; chunk = one tile |
/// | `/tiles/label`      | int32           | [N]                | index into `classes`; −1 = unlabelled              |
/// | `/tiles/slide`      | int32           | [N]                | row of the tile's slide in the slide table         |
/// | `/tiles/x`, `/tiles/y` | int64        | [N]                | level-0 coordinates of the tile's top-left corner  |
/// | `/tiles/background` | float32         | [N]                | fraction of background pixels in the tile          |
///
/// The slide table, one row per slide in the file (slides that kept no tile included):
///
/// | dataset                    | type    | meaning                                                  |
/// |----------------------------|---------|----------------------------------------------------------|
/// | `/slides/slide_id`         | string  | fixed-length UTF-8; unique across the store             |
/// | `/slides/patient_id`       | string  | fixed-length UTF-8; a patient belongs to one split only |
/// | `/slides/label`            | string  | class name, "" when unlabelled                           |
/// | `/slides/mpp`              | float64 | µm per tile pixel as written; −1 when unknown            |
/// | `/slides/level`            | int32   | pyramid level read                                       |
/// | `/slides/downsample`       | float64 | level-0 pixels per tile pixel                            |
/// | `/slides/width`, `/slides/height` | int64 | level-0 size of the slide in pixels              |
/// | `/slides/tiles_kept`       | int64   | tiles of this slide in the file                          |
/// | `/slides/tiles_considered` | int64   | candidate tiles before the background filter            |
/// | `/slides/tiles_dropped_mask`, `_background`, `_pen`, `_blur`, `_fold`, `_bubble` | int64 | candidate tiles dropped by each reason: never read (glass on the tissue mask), mostly background, pen ink, out of focus, tissue fold, air bubble; absent in stores written before them |
/// | `/slides/content_digest`   | string  | what the slide's stored tiles are (`SlideDigest`): equal digests in two rows mean the same slide tiled twice; "" when it kept no tile |
///
/// Integrity: every dataset is chunked with HDF5's Fletcher-32 filter, so the library checks each
/// chunk on every read and a damaged file fails the read (`TileStoreError.damagedTile`,
/// `.damagedData`) instead of returning changed bytes. `/tiles/jpeg` is checked per 256 KiB chunk,
/// so one damaged byte fails every tile that shares its chunk. Files written before the checksums
/// (no filter on the tile bytes) are refused (`TileStoreError.writtenWithoutChecksums`): re-tile.
/// The root attributes are not checksummed.
///
/// Strings are fixed-length, NUL-padded UTF-8 (what parallel HDF5 can write; h5py reads them as
/// bytes). Unknown values are −1 rather than absent, so every file has every field.
public enum TileStoreSchema {
    /// The schema version this code writes and reads.
    public static let version = 1
    /// The value of the `format` attribute.
    public static let format = "tessera-tile-store"

    /// Root attributes, named by the raw values, in the order every file is written with (a debug
    /// build checks that the writer writes exactly these).
    public enum Attribute: String, CaseIterable, Sendable {
        case schemaVersion = "schema_version"
        case format
        case split
        case classes
        /// The tiling (`TilingSpec`); `encoding` follows from the JPEG quality.
        case tileSize = "tile_size"
        case encoding
        case jpegQuality = "jpeg_quality"
        case targetMPP = "target_mpp"
        case targetMagnification = "target_magnification"
        case level
        case backgroundThreshold = "background_threshold"
        case maxBackground = "max_background"
        case tissueRule = "tissue_rule"
        case qc
        case penMax = "pen_max"
        case blurMin = "blur_min"
        case foldMax = "fold_max"
        case bubbleMax = "bubble_max"
        case blurBlockMin = "blur_block_min"
        /// The patient split.
        case splitSeed = "split_seed"
        case splitFractions = "split_fractions"
        /// Provenance.
        case tesseraVersion = "tessera_version"
        case created
        case task
        case taskCount = "task_count"

        /// The attribute that records a `TilingSpec` field: the case named as the field's coding key
        /// (the JPEG quality is `jpeg_quality`, with `encoding` derived from it).
        public static func name(ofSpecField field: String) -> String {
            // A case interpolates as its Swift name, not its raw value.
            guard TilingSpec.Key(rawValue: field) != nil, let attribute = allCases.first(where: { "\($0)" == field }) else {
                preconditionFailure("\(field) is not a TilingSpec field")
            }
            return attribute.rawValue
        }
    }

    /// The tile columns: datasets of the group `tiles` (`Tiles.label.path` is `tiles/label`).
    public enum Tiles: String, CaseIterable, Sendable, DatasetTable {
        public static let group = "tiles"
        /// JPEG encoding only: every tile's bytes, concatenated, and each tile's offset and length in them.
        case jpeg
        case offset
        case length
        /// Raw encoding only: the pixels.
        case raw
        case label
        case slide
        case x
        case y
        case background
    }

    /// The slide table: datasets of the group `slides`.
    public enum Slides: String, CaseIterable, Sendable, DatasetTable {
        public static let group = "slides"
        case slideID = "slide_id"
        case patientID = "patient_id"
        case label
        case mpp
        case level
        case downsample
        case width
        case height
        case tilesKept = "tiles_kept"
        case tilesConsidered = "tiles_considered"
        case contentDigest = "content_digest"
        /// How each slide was read (`direct-jpeg`, `openslide`); absent in older stores.
        case reader
        /// `slides/tiles_dropped_<reason>`.
        public static func tilesDropped(_ reason: TileDropReason) -> String { "\(group)/tiles_dropped_\(reason.rawValue)" }
    }

    /// Chunk of `/tiles/jpeg`, in bytes.
    public static let jpegChunkBytes = 256 * 1024
    /// Chunk of the per-tile columns, in tiles.
    public static let columnChunk = 1024
    /// The value that stands for "unknown" or "not given" in numeric fields.
    public static let unknown = -1
    /// The label of an unlabelled tile.
    public static let unlabelled: Int32 = -1
}

/// Datasets of one HDF5 group, named by an enum's raw values: a path is derived, never written out.
public protocol DatasetTable: RawRepresentable<String> {
    static var group: String { get }
}

extension DatasetTable {
    /// `group/name`.
    public var path: String { "\(Self.group)/\(rawValue)" }
}
