/// A failure reported by OpenSlide, with the slide's path and a hint for the user.
public struct OpenSlideError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist or cannot be read.
        case missingFile
        /// `openslide_open` returned NULL: not a slide format OpenSlide knows, or a truncated file.
        case unsupportedFormat
        /// OpenSlide set its (sticky) error on the handle: the file is corrupt somewhere.
        case corrupt
        /// An associated image name the slide does not have.
        case noSuchAssociatedImage
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public var description: String {
        switch kind {
        case .missingFile:
            return "\(path): no such slide file (\(message))\nhint: check the path in the manifest; relative paths are relative to the manifest's folder"
        case .unsupportedFormat:
            return "\(path): not a supported slide (OpenSlide cannot open it: \(message))\nhint: check that the file is a whole-slide image (Aperio .svs, generic tiled TIFF, Hamamatsu, MIRAX, …) and was copied completely"
        case .corrupt:
            return "\(path): the slide is corrupt: \(message)\nhint: re-copy the file from its source; the rest of the batch is unaffected"
        case .noSuchAssociatedImage:
            return "\(path): \(message)"
        }
    }
}
