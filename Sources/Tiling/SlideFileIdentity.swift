import Foundation

/// Which file a manifest path names, whatever the path: symlinks resolved, `..` and `.` removed, and
/// for an existing file its device and inode (so hard links and bind mounts compare equal too).
/// Two manifest lines with one identity are one slide listed twice.
struct SlideFileIdentity: Hashable {
    let key: String
    /// For an existing path that is not a regular file after resolving symlinks: what it is
    /// ("a FIFO", "a folder", …). Reading a FIFO blocks forever; OpenSlide cannot read the others.
    let nonRegularKind: String?

    init(_ path: String) {
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let attributes = try? FileManager.default.attributesOfItem(atPath: resolved)
        if let attributes, let device = attributes[.systemNumber] as? NSNumber, let inode = attributes[.systemFileNumber] as? NSNumber {
            key = "inode \(device.uint64Value):\(inode.uint64Value)"
        } else {
            key = resolved
        }
        switch attributes?[.type] as? FileAttributeType {
        // A dangling symbolic link is reported as a missing file.
        case nil, .typeRegular?, .typeSymbolicLink?: nonRegularKind = nil
        case .typeDirectory?: nonRegularKind = "a folder"
        case .typeCharacterSpecial?, .typeBlockSpecial?: nonRegularKind = "a device"
        case .typeSocket?: nonRegularKind = "a socket"
        default: nonRegularKind = "a FIFO or other special file"
        }
    }
}
