import KeysmithCore
import Testing

@Suite struct PositionTiersTests {
    /// A perpetual whose lot has `decimals` decimals.
    static func swap(lotDecimals decimals: Int) -> Instrument {
        let lot = Amount(units: 1, scale: decimals)
        return Instrument(
            id: "SOL-USDT-SWAP", base: "SOL", quote: "USDT", tickSize: Amount(units: 1, scale: 3), lotSize: lot, minimumSize: lot,
            maximumLimitSize: Amount(units: 1_000, scale: 0), maximumMarketSize: Amount(units: 1_000, scale: 0), listedAt: 0
        ).swap(ContractTerms(value: Amount(units: 1, scale: 0), maximumLeverage: 50))
    }

    @Test(arguments: [0, 2, 12, 13, 16, 18])
    func tierSizesNeverOverflowWhateverTheLotsDecimals(_ decimals: Int) {
        // Before the sizes were bounded, 13 decimals and more trapped the process (every second, in the liquidation
        // watcher).
        let tiers = PositionTiers.tiers(of: Self.swap(lotDecimals: decimals))
        #expect(tiers.count == 10)
        #expect(zip(tiers, tiers.dropFirst()).allSatisfy { $0.maximumSize <= $1.maximumSize })
        #expect(tiers.first?.maximumSize.units == (decimals <= 12 ? 5_000 * Self.power(decimals) : tiers.first?.maximumSize.units))
        #expect(PositionTiers.tier(of: Self.swap(lotDecimals: decimals), size: .max) != nil)
    }

    static func power(_ n: Int) -> Int64 { (0..<n).reduce(Int64(1)) { value, _ in value * 10 } }
}
