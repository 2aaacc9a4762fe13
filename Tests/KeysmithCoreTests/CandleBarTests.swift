import KeysmithCore
import Testing

/// Where OKX's candles begin and end: UTC for short bars and the `utc` forms, Hong Kong time (UTC+8) for 6H and up.
@Suite struct CandleBarTests {
    // 2026-12-02 16:05 UTC (a Wednesday; 00:05 on Thursday in Hong Kong).
    static let time: Int64 = 1_796_227_500_000

    @Test(arguments: [
        ("1m", 1_796_227_500_000, 1_796_227_560_000),
        ("4H", 1_796_227_200_000, 1_796_241_600_000),
        ("6Hutc", 1_796_212_800_000, 1_796_234_400_000),  // 12:00–18:00 UTC
        ("6H", 1_796_227_200_000, 1_796_248_800_000),  // 00:00–06:00 in Hong Kong
        ("1Dutc", 1_796_169_600_000, 1_796_256_000_000),
        ("1D", 1_796_227_200_000, 1_796_313_600_000),  // Hong Kong's 3 December began at 16:00 UTC
        ("1Wutc", 1_795_996_800_000, 1_796_601_600_000),  // Monday 30 November
        ("1W", 1_795_968_000_000, 1_796_572_800_000),  // Monday 30 November in Hong Kong
        ("1Mutc", 1_796_083_200_000, 1_798_761_600_000),  // December
        ("3Mutc", 1_790_812_800_000, 1_798_761_600_000),  // October to December
    ] as [(String, Int64, Int64)])
    func barsBeginAndEndAsOKXs(_ name: String, _ start: Int64, _ end: Int64) throws {
        let bar = try #require(CandleBar(name))
        #expect(bar.start(of: Self.time) == start)
        #expect(bar.end(of: start) == end)
        #expect(bar.start(of: start) == start && bar.start(of: end - 1) == start && bar.start(of: end) == end)
    }

    @Test
    func hongKongDaysAndMonthsTurnAtSixteenHundredUTC() throws {
        let day = try #require(CandleBar("1D")), month = try #require(CandleBar("1M"))
        #expect(day.start(of: 1_796_227_140_000) == 1_796_140_800_000)  // 15:59 UTC is still Hong Kong's 2 December
        #expect(month.start(of: 1_796_058_000_000) == 1_796_054_400_000)  // 30 Nov 17:00 UTC is 1 Dec in Hong Kong
        // A leap February ends on the 29th.
        let utcMonth = try #require(CandleBar("1Mutc"))
        #expect(utcMonth.start(of: 1_709_208_000_000) == 1_706_745_600_000 && utcMonth.end(of: 1_706_745_600_000) == 1_709_251_200_000)
    }

    @Test(arguments: ["", "1s", "1mutc", "4Hutc", "5H", "2W", "1Y", "1d", "6h"])
    func unknownBarsAreRefused(_ name: String) {
        #expect(CandleBar(name) == nil)
    }
}
