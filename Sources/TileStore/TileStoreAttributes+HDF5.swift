import HDF5
import Tiling

extension TileStoreAttributes {
    typealias Name = TileStoreSchema.Attribute

    /// Writes every root attribute, `format` and `schema_version` included.
    func write(to file: HDF5Location) throws {
        let unknown = Double(TileStoreSchema.unknown)
        let (mpp, magnification, level) = tiling.target.fields
        let values: [(String, HDF5AttributeValue)] = [
            (Name.schemaVersion, .int(Int64(TileStoreSchema.version))),
            (Name.format, .string(TileStoreSchema.format)),
            (Name.split, .string(split)),
            (Name.classes, .strings(classes)),
            (Name.tileSize, .int(Int64(tiling.tileSize))),
            (Name.encoding, .string(encoding.rawValue)),
            (Name.jpegQuality, .int(Int64(tiling.jpegQuality ?? 0))),
            (Name.targetMPP, .double(mpp ?? unknown)),
            (Name.targetMagnification, .double(magnification ?? unknown)),
            (Name.level, .int(Int64(level ?? TileStoreSchema.unknown))),
            (Name.backgroundThreshold, .double(tiling.backgroundThreshold)),
            (Name.maxBackground, .double(tiling.maxBackground)),
            (Name.tissueRule, .string(tiling.tissueRule.rawValue)),
            (Name.qc, .string(tiling.qc.description)),
            (Name.penMax, .double(tiling.penMax)),
            (Name.blurMin, .double(tiling.blurMin)),
            (Name.foldMax, .double(tiling.foldMax)),
            (Name.bubbleMax, .double(tiling.bubbleMax)),
            (Name.splitSeed, .int(Int64(bitPattern: splitSeed))),
            (Name.splitFractions, .doubles(splitFractions)),
            (Name.tesseraVersion, .string(tesseraVersion)),
            (Name.created, .string(created)),
            (Name.task, .int(Int64(task))),
            (Name.taskCount, .int(Int64(taskCount))),
        ]
        for (name, value) in values { try file.setAttribute(name, value) }
    }

    /// Reads and checks the attributes of a file whose format and schema version were checked.
    init(readingFrom file: HDF5Location, path: String) throws {
        func attribute<T>(_ name: String, _ read: (String) throws -> T) throws -> T {
            guard file.hasAttribute(name) else {
                throw TileStoreError.invalidAttribute(path: path, name: name, message: "missing")
            }
            do {
                return try read(name)
            } catch let error as HDF5Error {
                throw TileStoreError.invalidAttribute(path: path, name: name, message: error.stack.first ?? error.call)
            }
        }
        func int(_ name: String) throws -> Int { Int(try attribute(name, file.intAttribute)) }
        func double(_ name: String) throws -> Double { try attribute(name, file.doubleAttribute) }
        func optional(_ value: Double) -> Double? { value < 0 ? nil : value }

        let encodingName = try attribute(Name.encoding, file.stringAttribute)
        guard let encoding = TileEncoding(rawValue: encodingName) else {
            throw TileStoreError.invalidAttribute(path: path, name: Name.encoding,
                                                  message: "\"\(encodingName)\" is neither jpeg nor raw")
        }
        let tileSize = try int(Name.tileSize)
        guard tileSize > 0 else {
            throw TileStoreError.invalidAttribute(path: path, name: Name.tileSize, message: "\(tileSize) is not a tile size")
        }
        let level = try int(Name.level)
        let jpegQuality = try int(Name.jpegQuality)
        var tiling = TilingSpec(
            tileSize: tileSize,
            target: TilingTarget(mpp: optional(try double(Name.targetMPP)),
                                 magnification: optional(try double(Name.targetMagnification)),
                                 level: level < 0 ? nil : level),
            backgroundThreshold: try double(Name.backgroundThreshold),
            maxBackground: try double(Name.maxBackground),
            jpegQuality: encoding == .jpeg ? jpegQuality : nil)
        // Absent in stores written before tissue rules and QC: the luminance rule, no QC.
        if file.hasAttribute(Name.tissueRule) {
            let name = try attribute(Name.tissueRule, file.stringAttribute)
            guard let rule = TissueRule(rawValue: name) else {
                throw TileStoreError.invalidAttribute(path: path, name: Name.tissueRule, message: "\"\(name)\" is neither luminance nor otsu")
            }
            tiling.tissueRule = rule
        }
        if file.hasAttribute(Name.qc) {
            let text = try attribute(Name.qc, file.stringAttribute)
            guard let checks = QCChecks(parsing: text) else {
                throw TileStoreError.invalidAttribute(path: path, name: Name.qc, message: "\"\(text)\" is not a comma-separated list of pen, blur, fold, bubble, or none")
            }
            tiling.qc = checks
        }
        if file.hasAttribute(Name.penMax) { tiling.penMax = try double(Name.penMax) }
        if file.hasAttribute(Name.blurMin) { tiling.blurMin = try double(Name.blurMin) }
        if file.hasAttribute(Name.foldMax) { tiling.foldMax = try double(Name.foldMax) }
        if file.hasAttribute(Name.bubbleMax) { tiling.bubbleMax = try double(Name.bubbleMax) }
        self.init(split: try attribute(Name.split, file.stringAttribute),
                  classes: try attribute(Name.classes, file.stringsAttribute),
                  tiling: tiling,
                  splitSeed: UInt64(bitPattern: try attribute(Name.splitSeed, file.intAttribute)),
                  splitFractions: try attribute(Name.splitFractions, file.doublesAttribute),
                  tesseraVersion: try attribute(Name.tesseraVersion, file.stringAttribute),
                  created: try attribute(Name.created, file.stringAttribute),
                  task: try int(Name.task),
                  taskCount: try int(Name.taskCount))
    }
}
