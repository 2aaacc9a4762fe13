import Foundation
import KeysmithCore
import Testing

struct AveragePriceTests {
    static let btc = Instrument.defaults[0]  // tick 0.1, lot 0.00000001

    @Test
    func oneFillReportsItsPriceExactly() throws {
        // 0.00166583 BTC at 30015: its quote amount rounds (49.999887 USDT), its average price must not.
        let size: Int64 = 166_583, price: Int64 = 300_150
        let value = try #require(Self.btc.value(price: price, size: size))
        #expect(Self.btc.averagePrice(value: value, filled: size) == "30015")
        #expect(Self.btc.notional(price: price, size: size) == 49_999_887)
        let sell = try #require(Self.btc.value(price: 299_850, size: size))
        #expect(Self.btc.averagePrice(value: sell, filled: size) == "29985")
        #expect(Self.btc.averagePrice(value: 0, filled: 0) == "")
    }

    @Test
    func severalPricesAverageBySize() throws {
        // 0.1 at 30000 and 0.3 at 30001: (3000 + 9000.3) / 0.4 = 30000.75.
        let value = try #require(Self.btc.value(price: 300_000, size: 10_000_000)) + Self.btc.value(price: 300_010, size: 30_000_000)!
        #expect(Self.btc.averagePrice(value: value, filled: 40_000_000) == "30000.75")
        // 1 unit at 0.1 and 2 units at 0.2: 0.5 / 3 = 0.1666…, rounded half to even at tick + lot decimals.
        #expect(Self.btc.averagePrice(value: 1 * 1 + 2 * 2, filled: 3) == "0.166666667")
        // Exactly half an ulp rounds to even: 0.5 units of the last decimal.
        #expect(Self.btc.averagePrice(value: 1, filled: 2 * 100_000_000) == "0")
        #expect(Self.btc.averagePrice(value: 3, filled: 2 * 100_000_000) == "0.000000002")
    }

    @Test
    func finePriceAndSizeStepsNeverTrapAndStayAt18Decimals() throws {
        // tick 1e-10 and lot 1e-9: 19 decimals together, more than an Int64 power of ten holds.
        let fine = Instrument(
            id: "X-Y", base: "X", quote: "Y", tickSize: Amount(units: 1, scale: 10), lotSize: Amount(units: 1, scale: 9),
            minimumSize: Amount(units: 1, scale: 9), maximumLimitSize: Amount(units: .max, scale: 9),
            maximumMarketSize: Amount(units: .max, scale: 9), listedAt: 0)
        #expect(fine.averagePrice(value: 5 * 7, filled: 7) == "0.0000000005")
        #expect(fine.averagePrice(value: 1 + 2 * 2, filled: 3) == "0.000000000166666667")
        #expect(Amount.text(units: Int128(Int64.max) * 1000, scale: 30) == "0.000000009223372036854775807")
    }

    @Test
    func anOrderWhoseExactValueOutgrew64BitsAveragesItsQuoteAmounts() {
        #expect(Order.accumulated(10, 5) == 15)
        #expect(Order.accumulated(.max, 1) == -1 && Order.accumulated(-1, 5) == -1 && Order.accumulated(10, nil) == -1)
        var order = Order(
            clientOrderID: "", tag: "", account: "a", apiKey: "k", instrument: "BTC-USDT", side: .buy, type: .limit, price: 300_150,
            size: 166_583, targetCurrency: "base_ccy", createdAt: 0, updatedAt: 0)
        order.filled = 166_583
        order.filledNotional = 49_999_887
        order.filledValue = 49_999_887_450
        #expect(Self.btc.averagePrice(of: order) == "30015")
        order.filledValue = -1  // the quote amounts, rounded down to the tick: what avgPx was before the exact value
        #expect(Self.btc.averagePrice(of: order) == "30014.9")
    }

    /// For random sequences of fills, Σ price × size / Σ size equals avgPx: exactly whenever the quotient has at
    /// most tick + lot decimals, else within half a unit of the last one.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func averagePriceMatchesTheFillsForRandomSequences(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<500 {
            var value: Int64 = 0, filled: Int64 = 0
            var exactValue = Decimal(0), exactSize = Decimal(0)
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let price = Int64.random(in: 1...1_000_000, using: &random)  // 0.1 … 100000.0
                let size = Int64.random(in: 1...500_000_000, using: &random)  // 0.00000001 … 5 BTC
                value += try #require(Self.btc.value(price: price, size: size))
                filled += size
                exactValue += Decimal(price) * Decimal(size) / Decimal(1_000_000_000)
                exactSize += Decimal(size) / Decimal(100_000_000)
            }
            let text = Self.btc.averagePrice(value: value, filled: filled)
            let shown = try #require(Decimal(string: text))
            let error = abs(shown * exactSize - exactValue)
            let halfUnit = Decimal(string: "0.0000000005")! * exactSize
            #expect(error <= halfUnit, "avgPx \(text) for value \(value) / filled \(filled)")
            if Int128(value) * 100_000_000 % Int128(filled) == 0 {
                #expect(shown * exactSize == exactValue, "exact quotient \(text)")
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing sequence can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
