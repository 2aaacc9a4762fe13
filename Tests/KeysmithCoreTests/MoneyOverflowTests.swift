import KeysmithCore
import PropertyBased
import Testing

/// Arithmetic on client-supplied amounts answers nil (a parameter error upstream) where a result does not fit, and
/// never traps: a trap is a crash of every connection.
struct MoneyOverflowTests {
    @Test
    func valuationThatDoesNotFitIsNil() throws {
        // 2^63 × 2^63 fits 128 bits; the eight decimal shifts after it do not.
        let huge = Amount(units: .max, scale: 0)
        #expect(huge.value(at: huge, scale: 8) == nil)
        #expect(huge.value(at: Amount(units: 1, scale: 0), scale: 18) == nil)
        #expect(Amount(units: 3, scale: 0).value(at: Amount(units: 2, scale: 0), scale: 18)?.units == 6_000_000_000_000_000_000)
        #expect(try #require(Amount(parsing: "0.5", scale: 8)).value(at: Amount(units: 300_000, scale: 1), scale: 6)?.text == "15000")
    }

    @Test
    func negatingAndRescalingTheExtremesDoNotTrap() {
        #expect(Amount(units: .min, scale: 0).negated == nil)
        #expect(Amount(units: 5, scale: 2).negated == Amount(units: -5, scale: 2))
        #expect(Amount(units: 1, scale: 0).rescaled(to: 40) == nil)
        #expect(Amount(units: .max, scale: 0).rescaled(to: 1) == nil)
    }

    @Test
    func notionalBeyondOneHundredTwentyEightBitsIsNil() {
        // A quote currency with 18 decimals over an instrument priced and sized in whole units: the product of two
        // 64-bit numbers is shifted by 18 decimals.
        let whole = Amount(units: 1, scale: 0)
        let instrument = Instrument(
            id: "PTS-WEI", base: "PTS", quote: "WEI", tickSize: whole, lotSize: whole, minimumSize: whole,
            maximumLimitSize: Amount(units: .max, scale: 0), maximumMarketSize: Amount(units: .max, scale: 0), listedAt: 0
        ).withQuoteScale(18)
        #expect(instrument.notional(price: .max, size: .max) == nil)
        #expect(instrument.notionalRoundedUp(price: .max, size: .max) == nil)
        #expect(instrument.notional(price: 1_000_000_000, size: 10) == nil)  // 10^10 whole WEI is 10^28 units
        #expect(instrument.notional(price: 2, size: 3) == 6_000_000_000_000_000_000)
    }

    @Test
    func bookDepthAddsUpBeyondOneOrder() {
        var book = OrderBook()
        for id in Int64(1)...4 { book.add(RestingOrder(id: id, account: "a\(id)", side: .sell, price: 10, remaining: .max / 2)) }
        let level = book.depth(.sell, levels: 1).first
        #expect("\(level?.size ?? 0)" == String(Int128(Int64.max / 2) * 4))
        #expect(level?.orders == 4)
    }

    // MARK: - Properties

    /// 64-bit units, weighted towards the extremes where overflow lives.
    static let units = zip(Gen.int(in: 0...3), Gen.int64()).map { kind, value -> Int64 in
        switch kind {
        case 0: value
        case 1: value >> 31
        case 2: .max - Int64(value.magnitude % 1_000)
        default: .min + Int64(value.magnitude % 1_000)
        }
    }

    /// `value(at:)` is nil exactly when the true value does not fit, and the true value (truncated toward zero)
    /// otherwise.
    @Test
    func valuationIsExactOrNil() async {
        let scales = Gen.int(in: 0...18)
        await propertyCheck(count: 2_000, input: Self.units, Self.units, scales, scales, scales) { a, b, s, t, r in
            let product = Int128(a) * Int128(b)
            let shift = r - s - t
            var expected: Int64?
            if shift == 0 {
                expected = Int64(exactly: product)
            } else if shift > 0 {
                let factor = Self.power(shift)
                if product.magnitude <= UInt128(Int64.max) / factor.magnitude { expected = Int64(exactly: product * factor) }
            } else {
                expected = Int64(exactly: product / Self.power(-shift))
            }
            let value = Amount(units: a, scale: s).value(at: Amount(units: b, scale: t), scale: r)
            #expect(value?.units == expected, "\(a)·10^-\(s) × \(b)·10^-\(t) at scale \(r)")
        }
    }

    @Test
    func addingIsExactOrNil() async {
        await propertyCheck(count: 2_000, input: Self.units, Self.units, Gen.int(in: 0...18)) { a, b, scale in
            let sum = Amount(units: a, scale: scale).adding(Amount(units: b, scale: scale))
            #expect(sum?.units == Int64(exactly: Int128(a) + Int128(b)))
        }
    }

    /// Text round-trips through parsing for every 64-bit amount but the one whose magnitude has no positive twin.
    @Test
    func textRoundTripsThroughParsing() async {
        await propertyCheck(count: 2_000, input: Self.units, Gen.int(in: 0...18)) { units, scale in
            let amount = Amount(units: units, scale: scale)
            let parsed = Amount(parsing: amount.text, scale: scale)
            #expect(parsed == amount || units == .min && parsed == nil, "\(amount.text) at scale \(scale)")
        }
    }

    /// Decimal text of any shape, extreme lengths included, parses to nil or to an amount that prints back to it.
    @Test
    func parsingHostileTextIsNilOrExact() async {
        let text = Gen.element(of: Array("0123456789999.-")).map { $0 ?? "9" }.string(of: 0...45)
        await propertyCheck(count: 5_000, input: text, Gen.int(in: 0...18)) { text, scale in
            guard let amount = Amount(parsing: text, scale: scale) else { return }
            #expect(Amount(parsing: amount.text, scale: scale) == amount, "\(text)")
            #expect(amount.adding(amount) == nil || amount.units.magnitude <= UInt64(Int64.max / 2) + 1)
            _ = amount.value(at: amount, scale: 18)
        }
    }

    static func power(_ exponent: Int) -> Int128 {
        (0..<exponent).reduce(Int128(1)) { value, _ in value * 10 }
    }
}
