import Foundation

/// What a key may trade: the products (spot, perpetual swaps), an instrument allowlist and USDT notional limits per
/// order and per day. Stored and validated with the key; the ledger enforces them on orders.
///
/// ```swift
/// let limits = try TradingRestrictions(instruments: "BTC-USDT,ETH-USDT", maxOrderUSDT: "1000", maxDailyUSDT: "10000")
/// limits.permits(instrument: "BTC-USDT")   // true
/// ```
public struct TradingRestrictions: Sendable, Hashable {
    /// Allowed instrument ids (`BTC-USDT`, `BTC-USDT-SWAP`); empty: any.
    public var instruments: [String]
    /// Allowed instrument types (`--products spot,swap`); empty: any.
    public var products: [InstrumentType] = []
    /// Maximum notional of one order in USDT, as a decimal string; nil: no limit.
    public var maxOrderUSDT: String?
    /// Maximum notional per UTC day in USDT; nil: no limit.
    public var maxDailyUSDT: String?

    public static let none = TradingRestrictions(uncheckedInstruments: [], maxOrderUSDT: nil, maxDailyUSDT: nil)

    public init(instruments: String?, maxOrderUSDT: String?, maxDailyUSDT: String?, products: String? = nil) throws(OKXError) {
        var ids: [String] = []
        for part in (instruments ?? "").split(separator: ",") {
            let id = String(part.trimmingSpaces()).uppercased()
            var halves = id.split(separator: "-", omittingEmptySubsequences: false)
            if halves.count == 3, halves[2] == "SWAP" { halves.removeLast() }
            guard halves.count == 2, halves.allSatisfy({ (2...12).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
            else {
                throw OKXError.parameterError("instId").with(
                    message: "Parameter instId error: '\(part)' is not an instrument id such as BTC-USDT or BTC-USDT-SWAP")
            }
            if !ids.contains(id) { ids.append(id) }
        }
        guard ids.count <= 100 else { throw OKXError.parameterError("instId").with(message: "Parameter instId error: at most 100 instruments") }
        let order = try Self.amount(maxOrderUSDT, "maxOrderUSDT")
        let daily = try Self.amount(maxDailyUSDT, "maxDailyUSDT")
        if let order, let daily, let o = Decimal(string: order), let d = Decimal(string: daily), o > d {
            throw OKXError.parameterError("maxOrderUSDT").with(
                message: "Parameter maxOrderUSDT error: the per-order limit exceeds the daily limit")
        }
        self.init(uncheckedInstruments: ids, maxOrderUSDT: order, maxDailyUSDT: daily)
        var types: [InstrumentType] = []
        for part in (products ?? "").split(separator: ",") {
            guard let type = InstrumentType(rawValue: String(part.trimmingSpaces()).uppercased()) else {
                throw OKXError.parameterError("products").with(message: "Parameter products error: '\(part)' is not spot or swap")
            }
            if !types.contains(type) { types.append(type) }
        }
        self.products = types
    }

    private init(uncheckedInstruments: [String], maxOrderUSDT: String?, maxDailyUSDT: String?) {
        instruments = uncheckedInstruments
        self.maxOrderUSDT = maxOrderUSDT
        self.maxDailyUSDT = maxDailyUSDT
    }

    public var isEmpty: Bool { instruments.isEmpty && maxOrderUSDT == nil && maxDailyUSDT == nil && products.isEmpty }

    public func permits(instrument: String) -> Bool {
        instruments.isEmpty || instruments.contains(instrument.uppercased())
    }

    /// Whether the key may trade instruments of `type`.
    public func permits(type: InstrumentType) -> Bool {
        products.isEmpty || products.contains(type)
    }

    /// The products as stored and shown: `spot,swap`, or "" for any.
    public var productsText: String { products.map { $0.rawValue.lowercased() }.joined(separator: ",") }

    /// A positive decimal with at most 8 fraction digits and no exponent, kept as its canonical text.
    private static func amount(_ text: String?, _ name: String) throws(OKXError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 15, whole.allSatisfy(\.isASCIIDigit),
            parts.count == 1 || (1...8).contains(parts[1].count) && parts[1].allSatisfy(\.isASCIIDigit),
            let value = Decimal(string: text), value > 0
        else {
            throw OKXError.parameterError(name).with(message: "Parameter \(name) error: a positive USDT amount such as 1000 or 250.5")
        }
        return "\(value)"
    }
}
