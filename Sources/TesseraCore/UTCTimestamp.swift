import Foundation

/// `2026-11-29T14:03:00Z`: a moment in UTC to the second, the form of every log line's stamp and of
/// the `created`/`since` fields of stores, models, reports and locks. Calendar arithmetic (Howard
/// Hinnant's civil-from-days), not `ISO8601DateFormatter`, whose first use loads ICU's time-zone
/// and calendar data: ~4 ms of every process's start-up, a tenth of a short tiling task's serial
/// part. The fraction of a second is dropped, as the formatter drops it.
public func utcTimestamp(_ date: Date = Date()) -> String {
    let seconds = Int(date.timeIntervalSince1970.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400  // rounded down
    let s = seconds - days * 86_400
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let yyyy = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
    return "\(yyyy)-\(two(month))-\(two(day))T\(two(s / 3_600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
}
