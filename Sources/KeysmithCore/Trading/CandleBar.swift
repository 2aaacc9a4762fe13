/// An OKX candle size (`bar`): where each candle of that size begins and ends. Bars up to 4H are whole minutes or
/// hours of UTC; 6H, 12H, 1D, 2D, 3D, 1W, 1M and 3M open on Hong Kong time (UTC+8) as OKX's do, and their `utc`
/// forms (`6Hutc`, `1Dutc`, …) on UTC. Weeks begin on Monday; months and quarters on their first day.
public struct CandleBar: Sendable, Hashable {
    enum Length: Sendable, Hashable {
        /// A fixed number of milliseconds.
        case fixed(Int64)
        /// A number of calendar months.
        case months(Int64)
        /// A week, from Monday.
        case week
    }

    let length: Length
    /// Milliseconds from UTC of the clock the bar opens on (Hong Kong: 8 h).
    let offset: Int64

    static let minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000
    static let hongKong: Int64 = 8 * hour

    /// The bar OKX names `name`, or nil.
    public init?(_ name: String) {
        let utc = name.hasSuffix("utc")
        let base = utc ? String(name.dropLast(3)) : name
        switch base {
        case "1m", "3m", "5m", "15m", "30m":
            guard !utc, let minutes = Int64(base.dropLast()) else { return nil }
            self.init(length: .fixed(minutes * Self.minute), offset: 0)
        case "1H", "2H", "4H":
            guard !utc, let hours = Int64(base.dropLast()) else { return nil }
            self.init(length: .fixed(hours * Self.hour), offset: 0)
        case "6H", "12H":
            self.init(length: .fixed(Int64(base.dropLast())! * Self.hour), offset: utc ? 0 : Self.hongKong)
        case "1D", "2D", "3D":
            self.init(length: .fixed(Int64(base.dropLast())! * Self.day), offset: utc ? 0 : Self.hongKong)
        case "1W":
            self.init(length: .week, offset: utc ? 0 : Self.hongKong)
        case "1M", "3M":
            self.init(length: .months(Int64(base.dropLast())!), offset: utc ? 0 : Self.hongKong)
        default:
            return nil
        }
    }

    init(length: Length, offset: Int64) {
        self.length = length
        self.offset = offset
    }

    /// When the bar that holds `time` (milliseconds since 1970, UTC) began.
    public func start(of time: Int64) -> Int64 {
        let local = time + offset
        switch length {
        case .fixed(let size):
            return Self.floor(local, size) - offset
        case .week:
            // 1970-01-01 was a Thursday: three days after a Monday.
            return Self.floor(local + 3 * Self.day, 7 * Self.day) - 3 * Self.day - offset
        case .months(let count):
            let (year, month, _) = Self.civil(days: Self.floor(local, Self.day) / Self.day)
            let index = year * 12 + (month - 1)
            let first = index - ((index % count) + count) % count
            return Self.days(year: first / 12, month: first % 12 + 1) * Self.day - offset
        }
    }

    /// When the bar that began at `start` ends (the next bar's start).
    public func end(of start: Int64) -> Int64 {
        switch length {
        case .fixed(let size): return start + size
        case .week: return start + 7 * Self.day
        case .months(let count):
            let (year, month, _) = Self.civil(days: (start + offset) / Self.day)
            let index = year * 12 + (month - 1) + count
            return Self.days(year: index / 12, month: index % 12 + 1) * Self.day - offset
        }
    }

    private static func floor(_ value: Int64, _ size: Int64) -> Int64 {
        value - ((value % size) + size) % size
    }

    /// Days since 1970-01-01 → (year, month, day).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        OKXTimestamp.civil(fromDays: days)
    }

    /// Days since 1970-01-01 of the first day of `month` (1–12) of `year`.
    static func days(year: Int64, month: Int64) -> Int64 {
        OKXTimestamp.daysSinceEpoch(year: year, month: month, day: 1)
    }
}
