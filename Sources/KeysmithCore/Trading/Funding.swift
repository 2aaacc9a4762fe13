/// Funding of the perpetuals, as OKX computes it: each period's rate is the premium of the swap over its index plus
/// the interest rate's difference from that premium clamped to ±0.05 %, the whole clamped to the instrument's
/// bounds; at each funding time, positions pay (long, for a positive rate) or receive their notional value at the
/// mark times the rate.
public enum Funding {
    /// Decimals of a rate.
    public static let scale = 8
    /// OKX's interest rate per period: 0.01 %.
    public static let interest = Amount(units: 10_000, scale: scale)
    /// How far the interest part may move the rate from the premium: ±0.05 %.
    public static let band: Int64 = 50_000
    /// The bounds of a rate: ±0.375 % (OKX's for BTC-USDT-SWAP and ETH-USDT-SWAP at their first tier).
    public static let maximum = Amount(units: 375_000, scale: scale)
    public static let minimum = Amount(units: -375_000, scale: scale)
    /// Eight hours between funding times, by default.
    public static let defaultInterval: Int64 = 8 * 3_600_000

    /// The premium `(price − index) ÷ index` at ``scale`` decimals (toward zero); 0 without a swap price or index.
    public static func premium(price: Amount?, index: Amount?) -> Amount {
        guard let price, let index, index.units > 0, let price = price.rescaled(to: index.scale) else { return .zero(scale: scale) }
        var numerator = Int128(price.units) - Int128(index.units)
        for _ in 0..<scale { numerator *= 10 }
        return Amount(units: Int64(clamping: numerator / Int128(index.units)), scale: scale)
    }

    /// The rate for a `premium` (both at ``scale``): premium + clamp(interest − premium, ±band), within the bounds.
    public static func rate(premium: Amount) -> Amount {
        let p = premium.units
        let adjustment = min(max(interest.units.subtractingClamped(p), -band), band)
        let rate = p.addingClamped(adjustment)
        return Amount(units: min(max(rate, minimum.units), maximum.units), scale: scale)
    }

    /// The funding time at or after `time` for `interval` (multiples of the interval since the epoch, so 00:00,
    /// 08:00 and 16:00 UTC for eight hours).
    public static func nextTime(after time: Int64, interval: Int64) -> Int64 {
        let (quotient, remainder) = time.quotientAndRemainder(dividingBy: interval)
        return (quotient + (remainder > 0 ? 1 : 0)) * interval
    }

    /// What a position of `value` settlement units pays or receives at `rate`: the payer's share rounded up and the
    /// receiver's rounded down, so what is paid always covers what is received.
    public static func payment(value: Int64, rate: Amount, paying: Bool) -> Int64 {
        var divisor: Int128 = 1
        for _ in 0..<rate.scale { divisor *= 10 }
        let (quotient, remainder) = (Int128(value) * Int128(rate.units.magnitude)).quotientAndRemainder(dividingBy: divisor)
        return Int64(clamping: quotient + (paying && remainder > 0 ? 1 : 0))
    }
}

extension Int64 {
    /// `self − other`, or the nearest bound where it would not fit.
    public func subtractingClamped(_ other: Int64) -> Int64 {
        let (value, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : value
    }

    /// `self + other`, or the nearest bound where it would not fit.
    public func addingClamped(_ other: Int64) -> Int64 {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : value
    }
}

/// One funding settlement of one instrument: its time, rate and the mark the positions were valued at.
public struct FundingSettlement: Sendable, Hashable {
    public var instrument: String
    public var time: Int64
    public var rate: Amount
    public var mark: Amount
    /// `scheduled` at a funding time, `manual` when the operator settled now.
    public var method: String

    public init(instrument: String, time: Int64, rate: Amount, mark: Amount, method: String) {
        self.instrument = instrument
        self.time = time
        self.rate = rate
        self.mark = mark
        self.method = method
    }
}
