/// One band of position sizes and the margin rates it needs: positions of more than `minimumSize` and at most
/// `maximumSize` contracts hold `initialRate` of their notional as initial margin and `maintenanceRate` as
/// maintenance margin, with leverage up to `maximumLeverage` (OKX's `public/position-tiers`).
public struct PositionTier: Sendable, Hashable {
    public var tier: Int
    /// Contracts, at the instrument's lot scale.
    public var minimumSize: Amount
    public var maximumSize: Amount
    public var initialRate: Amount
    public var maintenanceRate: Amount
    public var maximumLeverage: Int
}

/// The position tiers of a linear perpetual. Tier 1 is OKX's (BTC-USDT: up to 1,000 contracts at 1 % initial and
/// 0.4 % maintenance margin, 100×; ETH-USDT: up to 5,000); the bands above it are Keysmith's own ladder, wider
/// for bigger positions and capped by the instrument's maximum leverage. An instrument other than BTC's uses ETH's
/// sizes.
public enum PositionTiers {
    /// Rates per tier: maximum size in tier-1 multiples, initial and maintenance rate (in 1/10,000), leverage.
    private static let ladder: [(multiple: Int64, initial: Int64, maintenance: Int64, leverage: Int)] = [
        (1, 100, 40, 100), (2, 133, 50, 75), (4, 200, 65, 50), (10, 250, 80, 40), (20, 333, 100, 30),
        (40, 500, 150, 20), (100, 1000, 250, 10), (200, 2000, 500, 5), (400, 3333, 1000, 3), (1000, 5000, 1500, 2),
    ]

    public static let rateScale = 4

    /// The tiers of `instrument` (none for a spot pair).
    public static func tiers(of instrument: Instrument) -> [PositionTier] {
        guard let terms = instrument.contract else { return [] }
        let scale = instrument.lotSize.scale
        // Sizes in lot units: a lot with many decimals makes them large, and a size beyond 64 bits is the largest
        // (an instrument configured so is not a reason to trap).
        var unit: Int64 = instrument.base == "BTC" ? 1_000 : 5_000
        for _ in 0..<scale { unit = unit.multipliedReportingOverflow(by: 10).overflow ? .max : unit * 10 }
        var tiers: [PositionTier] = []
        var floor: Int64 = 0
        for (index, band) in ladder.enumerated() {
            let (product, overflow) = unit.multipliedReportingOverflow(by: band.multiple)
            let ceiling = overflow ? Int64.max : product
            tiers.append(
                PositionTier(
                    tier: index + 1, minimumSize: Amount(units: floor, scale: scale), maximumSize: Amount(units: ceiling, scale: scale),
                    initialRate: Amount(units: band.initial, scale: rateScale),
                    maintenanceRate: Amount(units: band.maintenance, scale: rateScale),
                    maximumLeverage: min(band.leverage, terms.maximumLeverage)))
            floor = ceiling
        }
        return tiers
    }

    /// The largest position (lot units) `leverage` allows: the top of the highest tier whose maximum leverage is at
    /// least that; 0 when none is.
    public static func maximumSize(of instrument: Instrument, leverage: Leverage) -> Int64 {
        tiers(of: instrument).last { Int64($0.maximumLeverage) * 100 >= leverage.hundredths }?.maximumSize.units ?? 0
    }

    /// The tier a position of `size` contracts (lot units, either sign) falls in; the last tier beyond the ladder.
    public static func tier(of instrument: Instrument, size: Int64) -> PositionTier? {
        let tiers = tiers(of: instrument)
        return tiers.first { size.magnitude <= $0.maximumSize.units.magnitude } ?? tiers.last
    }

    /// The maintenance margin of a position of `size` contracts worth `notional` settlement units: its tier's rate
    /// of the notional, rounded up.
    public static func maintenance(of instrument: Instrument, size: Int64, notional: Int64) -> Int64 {
        guard let rate = tier(of: instrument, size: size)?.maintenanceRate else { return 0 }
        var divisor: Int128 = 1
        for _ in 0..<rate.scale { divisor *= 10 }
        let (quotient, remainder) = (Int128(notional) * Int128(rate.units)).quotientAndRemainder(dividingBy: divisor)
        return Int64(clamping: quotient + (remainder > 0 ? 1 : 0))
    }
}
