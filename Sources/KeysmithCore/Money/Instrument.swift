/// An instrument the exchange lists: a spot pair (`BTC-USDT`: what one unit of `base` costs in `quote`) or a linear
/// perpetual swap (`BTC-USDT-SWAP`: contracts of ``ContractTerms/value`` `base` each, priced in `quote` and settled
/// in it), in steps of `tickSize`, traded in multiples of `lotSize` (base units for spot, contracts for a swap) of at
/// least `minimumSize`. Configured in the database; BTC-USDT, ETH-USDT and their swaps by default.
public struct Instrument: Sendable, Hashable {
    public var id: String
    /// What a swap's contracts are; nil for a spot pair.
    public var contract: ContractTerms?
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

    /// OKX's `instType`.
    public var type: InstrumentType { contract == nil ? .spot : .swap }

    /// OKX's `uly` and `instFamily` of a swap (`BTC-USDT`); a spot pair's own id.
    public var family: String { "\(base)-\(quote)" }

    /// The same instrument as a swap with these contract terms.
    public func swap(_ terms: ContractTerms) -> Instrument {
        var copy = self
        copy.contract = terms
        return copy
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
    public static let defaultSpot: [Instrument] = [
        make("BTC-USDT", tick: "0.1", tickScale: 1, lot: "0.00000001", lotScale: 8, min: "0.00001", maxLimit: "9999999999", maxMarket: "1000000"),
        make("ETH-USDT", tick: "0.01", tickScale: 2, lot: "0.000001", lotScale: 6, min: "0.001", maxLimit: "9999999999", maxMarket: "1000000"),
    ]

    /// The spot pairs and the linear perpetuals on them, with OKX's contract terms: BTC-USDT-SWAP (0.01 BTC a
    /// contract, tick 0.1, lot and minimum 0.01 contracts, market orders up to 35,000, leverage up to 100) and
    /// ETH-USDT-SWAP (0.1 ETH, tick 0.01, 0.01, 90,000, 100).
    public static let defaults: [Instrument] = defaultSpot + [
        make("BTC-USDT-SWAP", tick: "0.1", tickScale: 1, lot: "0.01", lotScale: 2, min: "0.01", maxLimit: "100000000", maxMarket: "35000")
            .swap(ContractTerms(value: Amount(units: 1, scale: 2), maximumLeverage: 100)),
        make("ETH-USDT-SWAP", tick: "0.01", tickScale: 2, lot: "0.01", lotScale: 2, min: "0.01", maxLimit: "100000000", maxMarket: "90000")
            .swap(ContractTerms(value: Amount(units: 1, scale: 1), maximumLeverage: 100)),
    ]

    private static func make(
        _ id: String, tick: String, tickScale: Int, lot: String, lotScale: Int, min: String, maxLimit: String, maxMarket: String
    ) -> Instrument {
        let parts = id.split(separator: "-").map(String.init)
        let listed: Int64 = parts.count > 2 ? 1_573_557_408_000 : 1_548_133_413_000
        func amount(_ text: String, _ scale: Int) -> Amount { Amount(parsing: text, scale: scale) ?? .zero(scale: scale) }
        return Instrument(
            id: id, base: parts[0], quote: parts[1], tickSize: amount(tick, tickScale), lotSize: amount(lot, lotScale),
            minimumSize: amount(min, lotScale), maximumLimitSize: amount(maxLimit, lotScale),
            maximumMarketSize: amount(maxMarket, lotScale), listedAt: listed)
    }
}

/// OKX's `instType` of the instruments Keysmith lists.
public enum InstrumentType: String, Sendable, Hashable, CaseIterable {
    case spot = "SPOT"
    case swap = "SWAP"
}

/// What one contract of a linear perpetual swap is: `value` of the base currency (OKX's `ctVal`, with `ctMult` 1),
/// settled in the quote currency, tradable with leverage up to `maximumLeverage`.
public struct ContractTerms: Sendable, Hashable {
    public var value: Amount
    public var maximumLeverage: Int

    public init(value: Amount, maximumLeverage: Int) {
        self.value = value
        self.maximumLeverage = maximumLeverage
    }
}
