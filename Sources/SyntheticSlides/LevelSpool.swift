import Foundation
import TesseraCore

/// The rows of one lower pyramid level, kept in a raw RGB file until level 0 is written and the
/// level's own TIFF directory can start (libtiff writes one directory at a time). Keeps memory
/// independent of slide area; removed when the slide is done.
final class LevelSpool {
    let url: URL
    let width: Int
    private(set) var rows = 0
    private let handle: FileHandle

    init(url: URL, width: Int) throws {
        self.url = url
        self.width = width
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw TesseraError.io(path: url.path, message: "cannot create a temporary pyramid level file",
                                  hint: "check that the output folder is writable and has free space")
        }
        do {
            handle = try FileHandle(forUpdating: url)
        } catch {
            throw TesseraError.io(path: url.path, message: "cannot open a temporary pyramid level file: \(error.localizedDescription)",
                                  hint: "check that the output folder is writable")
        }
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }

    func append(_ image: RGBImage) throws {
        precondition(image.width == width || image.height == 0, "spool row width \(image.width) ≠ \(width)")
        guard image.height > 0 else { return }
        do {
            try handle.write(contentsOf: image.pixels)
        } catch {
            throw TesseraError.io(path: url.path, message: "cannot write a temporary pyramid level file: \(error.localizedDescription)",
                                  hint: "check free space in the output folder (lower levels need ~1/15 of the slide's raw size)")
        }
        rows += image.height
    }

    /// Reads the spooled rows back in strips of `stripRows` rows (the last may be shorter).
    func forEachStrip(of stripRows: Int, _ body: (Int, RGBImage) throws -> Void) throws {
        do {
            try handle.seek(toOffset: 0)
        } catch {
            throw TesseraError.io(path: url.path, message: "cannot rewind a temporary pyramid level file: \(error.localizedDescription)", hint: "")
        }
        var index = 0
        var y = 0
        while y < rows {
            let n = min(stripRows, rows - y)
            let bytes = n * width * 3
            let data: Data?
            do {
                data = try handle.read(upToCount: bytes)
            } catch {
                throw TesseraError.io(path: url.path, message: "cannot read a temporary pyramid level file: \(error.localizedDescription)", hint: "")
            }
            guard let data, data.count == bytes else {
                throw TesseraError.io(path: url.path, message: "a temporary pyramid level file is shorter than written",
                                      hint: "another process may have removed or truncated it")
            }
            try body(index, RGBImage(width: width, height: n, pixels: [UInt8](data)))
            index += 1
            y += n
        }
    }
}
