import ArgumentParser
import TesseraCore

extension ExitStatus {
    /// Runs a program's work the way every Tessera program ends: an `ExitCode` it throws (a status
    /// it chose, such as `doneWithFailedSlides`) passes through; any other error is logged and
    /// becomes `failure` (1), so no program prints a stack of Swift error types instead.
    public static func exitingOnError(_ work: () throws -> Void) throws {
        do {
            try work()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Log.error("\(error)")
            throw ExitStatus.failure.exitCode
        }
    }
}
