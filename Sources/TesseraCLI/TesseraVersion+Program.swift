import TesseraCore

extension TesseraVersion {
    /// What `PROGRAM --version` prints: the program, the release and the commit it was built from,
    /// e.g. `tessera-tile 0.1.0 (commit abc1234)`.
    public static func line(_ program: String) -> String { "\(program) \(current)" }
}
