/// A decimal amount of money as a whole number of the currency's smallest units (`scale` decimal places): no binary
/// floating point anywhere. `Amount(parsing: "0.1", scale: 8)` is 10 000 000 units; arithmetic is exact and overflow is
/// an error, never a wrap.
///
/// ```swift
/// let a = try Amount(parsing: "1.25", scale: 6)    // 1 250 000 units of a 6-decimal currency
/// a.text                                           // "1.25"
/// ```
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var units: Int64
    public var scale: Int

    public init(units: Int64, scale: Int) {
        self.units = units
        self.scale = scale
    }

    private enum CodingKeys: String, CodingKey { case units, scale }

    /// Decodes only the scales amounts have (0 to 18 decimals).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let scale = try container.decode(Int.self, forKey: .scale)
        guard (0...18).contains(scale) else {
            throw DecodingError.dataCorruptedError(forKey: .scale, in: container, debugDescription: "scale outside 0...18")
        }
        self.init(units: try container.decode(Int64.self, forKey: .units), scale: scale)
    }

    public static func zero(scale: Int) -> Amount { Amount(units: 0, scale: scale) }

    /// Parses plain decimal text (`"12"`, `"0.5"`, `"-3.25"`); nil for anything else, for more decimals than `scale`,
    /// or for a value that does not fit.
    public init?(parsing text: some StringProtocol, scale: Int) {
        var utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 40, (0...18).contains(scale) else { return nil }
        var negative = false
        if utf8[0] == UInt8(ascii: "-") {
            negative = true
            utf8.removeFirst()
        }
        var whole: Int64 = 0, fraction: Int64 = 0, fractionDigits = 0, seenDot = false, digits = 0
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard !seenDot else { return nil }
                seenDot = true
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            digits += 1
            if seenDot {
                fractionDigits += 1
                // Trailing zeros beyond the scale are harmless ("1.500000000" for a 6-decimal currency).
                if fractionDigits > scale {
                    guard digit == 0 else { return nil }
                    continue
                }
                fraction = fraction * 10 + digit
            } else {
                let (shifted, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = shifted.addingReportingOverflow(digit)
                guard !o1, !o2 else { return nil }
                whole = sum
            }
        }
        guard digits > 0 else { return nil }
        let used = min(fractionDigits, scale)
        let (scaledWhole, o1) = whole.multipliedReportingOverflow(by: Self.power(scale))
        let (scaledFraction, o2) = fraction.multipliedReportingOverflow(by: Self.power(scale - used))
        let (total, o3) = scaledWhole.addingReportingOverflow(scaledFraction)
        guard !o1, !o2, !o3 else { return nil }
        self.init(units: negative ? -total : total, scale: scale)
    }

    /// Plain decimal text without trailing zeros: `"1.25"`, `"0"`, `"-0.5"`.
    public var text: String { Self.text(units: Int128(units), scale: scale) }

    /// The text of a number of units that may not fit an amount (a sum over many balances or fills), in the same form
    /// as ``text``.
    public static func text(units: Int128, scale: Int) -> String {
        let magnitude = units.magnitude
        // 10^scale over 128 bits: an Int64 power would trap from 10^19 on (sums shown at 19 or more decimals).
        var divisor: UInt128 = 1
        for _ in 0..<min(max(0, scale), 38) { divisor *= 10 }
        let whole = magnitude / divisor, fraction = magnitude % divisor
        var out = (units < 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: scale - digits.count) + digits
            while digits.last == "0" { digits.removeLast() }
            out += "." + digits
        }
        return out
    }

    public var description: String { text }

    /// Decimal text with exactly `scale` decimals (`"0.10"` for 10 units of scale 2): keeps the scale readable.
    public var fixedText: String {
        guard scale > 0 else { return text }
        let plain = text
        let decimals = plain.split(separator: ".").dropFirst().first?.count ?? 0
        return (decimals == 0 ? plain + "." : plain) + String(repeating: "0", count: scale - decimals)
    }

    public var isPositive: Bool { units > 0 }

    /// The same value in another scale; nil when precision would be lost or it does not fit.
    public func rescaled(to newScale: Int) -> Amount? {
        guard (0...18).contains(newScale) else { return nil }
        if newScale == scale { return self }
        if newScale > scale {
            let (value, overflow) = units.multipliedReportingOverflow(by: Self.power(newScale - scale))
            return overflow ? nil : Amount(units: value, scale: newScale)
        }
        let factor = Self.power(scale - newScale)
        return units % factor == 0 ? Amount(units: units / factor, scale: newScale) : nil
    }

    /// True when the amount is a whole multiple of `step` (a tick or lot size of the same scale).
    public func isMultiple(of step: Amount) -> Bool {
        step.units > 0 && step.scale == scale && units % step.units == 0
    }

    public static func < (lhs: Amount, rhs: Amount) -> Bool {
        precondition(lhs.scale == rhs.scale, "amounts of different scales")
        return lhs.units < rhs.units
    }

    /// `self × price` in `scale` decimals, rounded down (a value at a price, e.g. BTC in USDT); nil when it does not fit.
    public func value(at price: Amount, scale resultScale: Int) -> Amount? {
        // Two 64-bit factors always fit 128 bits; each further decimal shift may not.
        var product = Int128(units) * Int128(price.units)
        let shift = resultScale - scale - price.scale
        for _ in 0..<max(0, shift) {
            let (shifted, overflow) = product.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            product = shifted
        }
        for _ in 0..<max(0, -shift) { product /= 10 }
        return Int64(exactly: product).map { Amount(units: $0, scale: resultScale) }
    }

    /// Exact sum; nil on overflow or different scales.
    public func adding(_ other: Amount) -> Amount? {
        guard other.scale == scale else { return nil }
        let (value, overflow) = units.addingReportingOverflow(other.units)
        return overflow ? nil : Amount(units: value, scale: scale)
    }

    /// The opposite amount; nil for the one value whose opposite does not fit (`Int64.min` units).
    public var negated: Amount? {
        let (value, overflow) = Int64(0).subtractingReportingOverflow(units)
        return overflow ? nil : Amount(units: value, scale: scale)
    }

    static func power(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<max(0, exponent) { value *= 10 }
        return value
    }
}
