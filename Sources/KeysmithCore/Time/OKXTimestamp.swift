/// OKX's `OK-ACCESS-TIMESTAMP`: ISO-8601 UTC with milliseconds and `Z` (`2020-12-08T09:08:57.715Z`).
///
/// Parsed by hand over UTF-8 bytes (no date formatter on the hot path). Exactly OKX's form is accepted — three
/// fraction digits and `Z` —, so one instant has one spelling; anything else (no fraction, other fraction lengths,
/// offsets, out-of-range fields) is rejected.
///
/// ```swift
/// OKXTimestamp.milliseconds(from: "2020-12-08T09:08:57.715Z")   // 1607418537715
/// OKXTimestamp.string(fromMilliseconds: 1607418537715)          // "2020-12-08T09:08:57.715Z"
/// ```
public enum OKXTimestamp {
    /// Clients may be this far ahead of or behind the server.
    public static let window: Int64 = 30_000

    /// Milliseconds since the Unix epoch, or nil when the text is not an OKX timestamp.
    public static func milliseconds(from text: some StringProtocol) -> Int64? {
        var copy = String(text)
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses raw header bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        // YYYY-MM-DDTHH:MM:SS.sssZ
        guard bytes.count == 24 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for i in start..<(start + length) {
                let digit = bytes[i] &- 0x30
                guard digit <= 9 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[bytes.count - 1] == UInt8(ascii: "Z"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1970...9999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60,
            day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        guard bytes[19] == UInt8(ascii: "."), let millis = number(20, 3) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
    }

    /// Formats milliseconds since the epoch as an OKX timestamp.
    public static func string(fromMilliseconds value: Int64) -> String {
        let millis = ((value % 1000) + 1000) % 1000
        let seconds = (value - millis) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after H. Hinnant's days_from_civil)

    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
