import XCTest

/// Asserts that a program refuses every case as a usage error: `run` with the case's arguments
/// exits 64 and names the problem (`message`, a part of its stderr).
public func assertUsageErrors(_ cases: [([String], String)], file: StaticString = #filePath, line: UInt = #line,
                              _ run: ([String]) throws -> CommandResult) rethrows {
    for (arguments, message) in cases {
        let r = try run(arguments)
        XCTAssertEqual(r.status, 64, "\(arguments): \(r.output)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)", file: file, line: line)
    }
}

/// The same for cases that each give one option several values refused with one message.
public func assertUsageErrors(_ cases: [(option: String, values: [String], message: String)], file: StaticString = #filePath,
                              line: UInt = #line, _ run: ([String]) throws -> CommandResult) rethrows {
    try assertUsageErrors(cases.flatMap { c in c.values.map { ([c.option, $0], c.message) } }, file: file, line: line, run)
}
