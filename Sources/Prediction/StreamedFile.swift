import Foundation
import TesseraCore

/// A large text file written piece by piece under a temporary name, renamed into place by
/// `commit()` (see `AtomicFile`): tiles.csv can be far larger than one would build in memory.
final class StreamedFile {
    let url: URL
    private let temporary: URL
    private let handle: FileHandle

    init(_ url: URL) throws {
        self.url = url
        temporary = AtomicFile.temporaryURL(for: url)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw TesseraError.io(path: temporary.path, message: "cannot create the file", hint: "check that the output folder is writable")
        }
        self.handle = handle
    }

    func write(_ text: String) throws {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw TesseraError.io(path: temporary.path, message: "cannot write (\(error.localizedDescription))", hint: "check free space")
        }
    }

    func commit() throws {
        try handle.close()
        try AtomicFile.commit(temporary, to: url)
    }
}
