import Foundation
import KeysmithApp
import KeysmithCore

/// Durations and moments in flags: `500ms`, `30s`, `15m`, `12h`, `7d`.
enum Durations {
    static func milliseconds(_ text: String, flag: String) throws -> Int64 {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let count = Int64(text.dropLast(suffix.count)), count >= 0, count <= 36_500 * 86_400_000 / scale {
                return count * scale
            }
        }
        throw CLIError("\(flag) takes a duration such as 500ms, 30s, 15m, 12h or 7d; got '\(text)'")
    }

    /// A date (`2026-12-31`), an OKX timestamp, or a duration ago (`90d`).
    static func moment(_ text: String, now: Int64) throws -> Int64 {
        if let ago = try? milliseconds(text, flag: "") { return now - ago }
        if let date = OKXTimestamp.milliseconds(from: text.count == 10 ? text + "T00:00:00.000Z" : text) { return date }
        throw CLIError("a time is a date (2026-12-31), an OKX timestamp or an age such as 30m or 7d; got '\(text)'")
    }
}
