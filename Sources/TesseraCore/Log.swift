import Foundation

/// Log lines for humans reading a terminal or a Slurm output file: one line per event, a UTC
/// timestamp, the program name, and no terminal control characters (Slurm files are not terminals).
public enum Log {
    /// Set once at start-up by each executable (e.g. "tessera-tile[3]" for array task 3).
    nonisolated(unsafe) public static var program = "tessera"

    public static func info(_ message: String) { write(message, level: nil) }
    public static func warning(_ message: String) { write(message, level: "warning") }
    public static func error(_ message: String) { write(message, level: "error") }

    private static func write(_ message: String, level: String?) {
        let stamp = utcTimestamp()
        let prefix = level.map { "\($0): " } ?? ""
        let line = "\(stamp) \(program) \(prefix)\(message)\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}

/// Writes text to standard error as it is (usage errors, messages for a terminal).
public func writeStandardError(_ text: String) {
    FileHandle.standardError.write((text.hasSuffix("\n") ? text : text + "\n").data(using: .utf8)!)
}
