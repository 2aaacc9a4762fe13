/// A spot instrument the exchange lists (`BTC-USDT`): what one unit of `base` costs in `quote`, in steps of
/// `tickSize`, traded in multiples of `lotSize` of at least `minimumSize`. Configured in the database; BTC-USDT and
/// ETH-USDT by default.
public struct Instrument: Sendable, Hashable {
    public var id: String
    public var base: String
    public var quote: String
    /// Price step, in the quote currency (its scale is the price's number of decimals).
    public var tickSize: Amount
    /// Size step, in the base currency.
    public var lotSize: Amount
    public var minimumSize: Amount
    public var maximumLimitSize: Amount
    public var maximumMarketSize: Amount
    public var listedAt: Int64
    /// The quote currency's number of decimals, when known (see ``quoteScale``).
    public var quoteCurrencyScale: Int?
    /// The base currency's number of decimals, when known (see ``baseScale``).
    public var baseCurrencyScale: Int?

    public init(
        id: String, base: String, quote: String, tickSize: Amount, lotSize: Amount, minimumSize: Amount,
        maximumLimitSize: Amount, maximumMarketSize: Amount, listedAt: Int64
    ) {
        self.id = id
        self.base = base
        self.quote = quote
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.minimumSize = minimumSize
        self.maximumLimitSize = maximumLimitSize
        self.maximumMarketSize = maximumMarketSize
        self.listedAt = listedAt
    }

    /// The same instrument knowing its quote currency's scale.
    public func withQuoteScale(_ scale: Int) -> Instrument {
        var copy = self
        copy.quoteCurrencyScale = scale
        return copy
    }

    /// The same instrument knowing both currencies' scales (sizes are in lot units; balances in the base
    /// currency's units, which may have more decimals: ETH-USDT trades in 0.000001 ETH, ETH balances count 10^-8).
    public func withCurrencyScales(base: Int, quote: Int) -> Instrument {
        var copy = self
        copy.baseCurrencyScale = base
        copy.quoteCurrencyScale = quote
        return copy
    }

    /// The base currency's scale, recorded by ``withCurrencyScales(base:quote:)``; the lot size's by default.
    public var baseScale: Int { baseCurrencyScale ?? lotSize.scale }

    /// Whether the base currency counts at least as finely as the lot size, so every size is a whole number of
    /// base units (an instrument that fails this cannot trade).
    public var sizesFitBaseCurrency: Bool { baseScale >= lotSize.scale }

    /// Base currency units of `size` lot units: what a fill of that size moves in the ledger; nil when it does not
    /// fit 64 bits or the base currency counts more coarsely than the lot size.
    public func baseUnits(_ size: Int64) -> Int64? {
        guard sizesFitBaseCurrency else { return nil }
        var value = size
        for _ in 0..<(baseScale - lotSize.scale) {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = shifted
        }
        return value
    }

    /// BTC-USDT (tick 0.1, lot 0.00000001, min 0.00001) and ETH-USDT (tick 0.01, lot 0.000001, min 0.001).
    public static let defaults: [Instrument] = [
        make("BTC-USDT", tick: "0.1", tickScale: 1, lot: "0.00000001", lotScale: 8, min: "0.00001", maxLimit: "9999999999", maxMarket: "1000000"),
        make("ETH-USDT", tick: "0.01", tickScale: 2, lot: "0.000001", lotScale: 6, min: "0.001", maxLimit: "9999999999", maxMarket: "1000000"),
    ]

    private static func make(
        _ id: String, tick: String, tickScale: Int, lot: String, lotScale: Int, min: String, maxLimit: String, maxMarket: String
    ) -> Instrument {
        let parts = id.split(separator: "-").map(String.init)
        func amount(_ text: String, _ scale: Int) -> Amount { Amount(parsing: text, scale: scale) ?? .zero(scale: scale) }
        return Instrument(
            id: id, base: parts[0], quote: parts[1], tickSize: amount(tick, tickScale), lotSize: amount(lot, lotScale),
            minimumSize: amount(min, lotScale), maximumLimitSize: amount(maxLimit, lotScale),
            maximumMarketSize: amount(maxMarket, lotScale), listedAt: 1_548_133_413_000)
    }
}
