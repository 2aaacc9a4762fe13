import KeysmithCore
import Testing

struct TradingRestrictionsTests {
    @Test
    func parsesAndNormalises() throws {
        let limits = try TradingRestrictions(instruments: " btc-usdt,ETH-USDT,BTC-USDT", maxOrderUSDT: "1000.50", maxDailyUSDT: "10000")
        #expect(limits.instruments == ["BTC-USDT", "ETH-USDT"])
        #expect(limits.maxOrderUSDT == "1000.5")
        #expect(limits.maxDailyUSDT == "10000")
        #expect(limits.permits(instrument: "btc-usdt"))
        #expect(!limits.permits(instrument: "OKB-USDT"))
        #expect(try TradingRestrictions(instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: nil).isEmpty)
        #expect(TradingRestrictions.none.permits(instrument: "ANY-THING"))
        // Perpetuals by their ids, and products by type.
        let swaps = try TradingRestrictions(instruments: "btc-usdt-swap", maxOrderUSDT: nil, maxDailyUSDT: nil, products: "swap, SWAP")
        #expect(swaps.instruments == ["BTC-USDT-SWAP"] && swaps.products == [.swap] && swaps.productsText == "swap")
        #expect(swaps.permits(type: .swap) && !swaps.permits(type: .spot) && TradingRestrictions.none.permits(type: .spot))
    }

    @Test(arguments: [
        ("BTCUSDT", nil, nil), ("BTC-", nil, nil), ("BTC-USDT-FUTURES", nil, nil), ("BTC-USDT-SWAP-1", nil, nil), ("B$C-USDT", nil, nil),
        (nil, "0", nil), (nil, "-5", nil), (nil, "1e3", nil), (nil, "1.123456789", nil), (nil, "abc", nil),
        (nil, "2000", "1000"),
    ] as [(String?, String?, String?)])
    func rejects(_ instruments: String?, _ order: String?, _ daily: String?) {
        #expect(throws: OKXError.self) { try TradingRestrictions(instruments: instruments, maxOrderUSDT: order, maxDailyUSDT: daily) }
    }
}
