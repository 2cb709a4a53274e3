import HDF5
import Tiling

extension TileStoreAttributes {
    typealias Name = TileStoreSchema.Attribute

    /// Writes every root attribute, `format` and `schema_version` included.
    func write(to file: HDF5Location) throws {
        let unknown = Double(TileStoreSchema.unknown)
        let (mpp, magnification, level) = tiling.target.fields
        let values: [(Name, HDF5AttributeValue)] = [
            (.schemaVersion, .int(Int64(TileStoreSchema.version))),
            (.format, .string(TileStoreSchema.format)),
            (.split, .string(split)),
            (.classes, .strings(classes)),
            (.tileSize, .int(Int64(tiling.tileSize))),
            (.encoding, .string(encoding.rawValue)),
            (.jpegQuality, .int(Int64(tiling.jpegQuality ?? 0))),
            (.targetMPP, .double(mpp ?? unknown)),
            (.targetMagnification, .double(magnification ?? unknown)),
            (.level, .int(Int64(level ?? TileStoreSchema.unknown))),
            (.backgroundThreshold, .double(tiling.backgroundThreshold)),
            (.maxBackground, .double(tiling.maxBackground)),
            (.tissueRule, .string(tiling.tissueRule.rawValue)),
            (.qc, .string(tiling.qc.description)),
            (.penMax, .double(tiling.penMax)),
            (.blurMin, .double(tiling.blurMin)),
            (.foldMax, .double(tiling.foldMax)),
            (.bubbleMax, .double(tiling.bubbleMax)),
            (.blurBlockMin, .double(tiling.blurBlockMin)),
            (.splitSeed, .int(Int64(bitPattern: splitSeed))),
            (.splitFractions, .doubles(splitFractions)),
            (.tesseraVersion, .string(tesseraVersion)),
            (.created, .string(created)),
            (.task, .int(Int64(task))),
            (.taskCount, .int(Int64(taskCount))),
        ]
        assert(values.map(\.0) == Name.allCases, "the attributes written are not the schema's")
        for (name, value) in values { try file.setAttribute(name.rawValue, value) }
    }

    /// Reads and checks the attributes of a file whose format and schema version were checked.
    init(readingFrom file: HDF5Location, path: String) throws {
        func attribute<T>(_ name: Name, _ read: (String) throws -> T) throws -> T {
            guard file.hasAttribute(name.rawValue) else {
                throw TileStoreError.invalidAttribute(path: path, name: name.rawValue, message: "missing")
            }
            do {
                return try read(name.rawValue)
            } catch let error as HDF5Error {
                throw TileStoreError.invalidAttribute(path: path, name: name.rawValue, message: error.stack.first ?? error.call)
            }
        }
        func has(_ name: Name) -> Bool { file.hasAttribute(name.rawValue) }
        func int(_ name: Name) throws -> Int { Int(try attribute(name, file.intAttribute)) }
        func double(_ name: Name) throws -> Double { try attribute(name, file.doubleAttribute) }
        func optional(_ value: Double) -> Double? { value < 0 ? nil : value }

        let encodingName = try attribute(.encoding, file.stringAttribute)
        guard let encoding = TileEncoding(rawValue: encodingName) else {
            throw TileStoreError.invalidAttribute(path: path, name: Name.encoding.rawValue,
                                                  message: "\"\(encodingName)\" is neither jpeg nor raw")
        }
        let tileSize = try int(.tileSize)
        guard tileSize > 0 else {
            throw TileStoreError.invalidAttribute(path: path, name: Name.tileSize.rawValue, message: "\(tileSize) is not a tile size")
        }
        let level = try int(.level)
        let jpegQuality = try int(.jpegQuality)
        var tiling = TilingSpec(
            tileSize: tileSize,
            target: TilingTarget(mpp: optional(try double(.targetMPP)),
                                 magnification: optional(try double(.targetMagnification)),
                                 level: level < 0 ? nil : level),
            backgroundThreshold: try double(.backgroundThreshold),
            maxBackground: try double(.maxBackground),
            jpegQuality: encoding == .jpeg ? jpegQuality : nil)
        // Absent in stores written before tissue rules and QC: the luminance rule, no QC.
        if has(.tissueRule) {
            let name = try attribute(.tissueRule, file.stringAttribute)
            guard let rule = TissueRule(rawValue: name) else {
                throw TileStoreError.invalidAttribute(path: path, name: Name.tissueRule.rawValue, message: "\"\(name)\" is neither luminance nor otsu")
            }
            tiling.tissueRule = rule
        }
        if has(.qc) {
            let text = try attribute(.qc, file.stringAttribute)
            guard let checks = QCChecks(parsing: text) else {
                throw TileStoreError.invalidAttribute(path: path, name: Name.qc.rawValue, message: "\"\(text)\" is not a comma-separated list of pen, blur, fold, bubble, or none")
            }
            tiling.qc = checks
        }
        if has(.penMax) { tiling.penMax = try double(.penMax) }
        if has(.blurMin) { tiling.blurMin = try double(.blurMin) }
        if has(.foldMax) { tiling.foldMax = try double(.foldMax) }
        if has(.bubbleMax) { tiling.bubbleMax = try double(.bubbleMax) }
        if has(.blurBlockMin) { tiling.blurBlockMin = try double(.blurBlockMin) }
        self.init(split: try attribute(.split, file.stringAttribute),
                  classes: try attribute(.classes, file.stringsAttribute),
                  tiling: tiling,
                  splitSeed: UInt64(bitPattern: try attribute(.splitSeed, file.intAttribute)),
                  splitFractions: try attribute(.splitFractions, file.doublesAttribute),
                  tesseraVersion: try attribute(.tesseraVersion, file.stringAttribute),
                  created: try attribute(.created, file.stringAttribute),
                  task: try int(.task),
                  taskCount: try int(.taskCount))
    }
}
