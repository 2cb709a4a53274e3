/// What a figure should reach, said in the log next to it — never asserted: on a shared machine a
/// missed target may be a neighbour's build, so it is for a person to judge with the CPU use beside it.
struct Target {
    enum Direction {
        case atLeast
        case below
    }

    let direction: Direction
    let value: Double
    let unit: String
    /// Where the target comes from, e.g. "5× a Python openslide tiler".
    let note: String

    static func atLeast(_ value: Double, _ unit: String, _ note: String = "") -> Target {
        Target(direction: .atLeast, value: value, unit: unit, note: note)
    }

    static func below(_ value: Double, _ unit: String, _ note: String = "") -> Target {
        Target(direction: .below, value: value, unit: unit, note: note)
    }

    func isMet(by measured: Double) -> Bool {
        switch direction {
        case .atLeast: return measured >= value
        case .below: return measured < value
        }
    }

    /// "target ≥ 40 images/s on one core: met".
    func verdict(_ measured: Double) -> String {
        let sign = direction == .atLeast ? "≥" : "<"
        let note = self.note.isEmpty ? "" : " \(self.note)"
        return "target \(sign) \(Figure.format(value)) \(unit)\(note): \(isMet(by: measured) ? "met" : "NOT met")"
    }
}
