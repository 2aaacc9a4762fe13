import Foundation
import KeysmithApp
import KeysmithCore

/// Reads and shows key expiry times in the CLI.
enum Expiry {
    /// `2026-12-31` (midnight UTC), an OKX timestamp (`2026-12-31T12:00:00.000Z`), or a duration from `now`
    /// (`90m`, `12h`, `30d`). Milliseconds since the epoch.
    static func parse(_ text: String, now: Int64, allowZero: Bool = false, flag: String = "--expires") throws -> Int64 {
        let units: [Character: Int64] = ["m": 60_000, "h": 3_600_000, "d": 86_400_000]
        if let unit = text.last, let scale = units[unit], let count = Int64(text.dropLast()), count > (allowZero ? -1 : 0),
            count <= 36_500
        {
            return now + count * scale
        }
        if let date = OKXTimestamp.milliseconds(from: text.count == 10 ? text + "T00:00:00.000Z" : text) {
            return date
        }
        throw CLIError("\(flag) takes a date (2026-12-31), an OKX timestamp or a duration such as 12h or 30d; got '\(text)'")
    }

    /// Milliseconds-since-epoch text as an OKX timestamp, to the minute.
    static func format(_ milliseconds: String) -> String {
        guard let value = Int64(milliseconds) else { return milliseconds }
        return String(OKXTimestamp.string(fromMilliseconds: value).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }
}
