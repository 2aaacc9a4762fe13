/// OKX order types Keysmith's spot book takes.
public enum OrderType: String, Sendable, Hashable, Codable, CaseIterable {
    case limit, market
    /// Rests only: refused (sCode 51020-style) if it would match at once.
    case postOnly = "post_only"
    /// Fills what it can at once; the rest is cancelled.
    case ioc
    /// Fills entirely at once or not at all.
    case fok
}

public enum OrderState: String, Sendable, Hashable, Codable {
    case live
    case partiallyFilled = "partially_filled"
    case filled
    case canceled

    public var isOpen: Bool { self == .live || self == .partiallyFilled }
}

/// An order as stored: sizes and prices in the instrument's units, what it has filled, and how much of its owner's
/// balance it still holds frozen.
public struct Order: Sendable, Hashable, Codable {
    public var id: Int64
    public var clientOrderID: String
    public var tag: String
    public var account: String
    public var apiKey: String
    public var instrument: String
    public var side: OrderSide
    public var type: OrderType
    /// Price units (nil for market orders).
    public var price: Int64?
    /// Size units of the base currency — or, for a market order sized in quote (`tgtCcy` quote_ccy), quote units.
    public var size: Int64
    /// `base_ccy` or `quote_ccy`.
    public var targetCurrency: String
    public var filled: Int64
    /// Quote units paid or received so far (rounded per fill, as the ledger settled them).
    public var filledNotional: Int64
    /// Σ fill price × fill size, exact, in price units × size units (scale tick + lot): the average price is this
    /// over ``filled``, with no rounding of the quote amounts in between. -1 once the sum outgrew 64 bits: the
    /// average then comes from ``filledNotional``.
    public var filledValue: Int64
    public var state: OrderState
    /// Units of the owner's balance still frozen for this order (quote for a buy, base for a sell).
    public var frozen: Int64
    /// Fees charged so far, in units of the currency the order receives (base for a buy, quote for a sell).
    public var fee: Int64
    /// The order's most recent fill, as read back (nil until it fills, and on an order being placed).
    public var lastFill: LastFill?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// SWAP orders: how they margin a position (`tdMode`; `cash` for spot), which position they trade, whether they
    /// may only reduce it, and the leverage they open at. A SWAP order's ``frozen``, ``fee`` and ``filledNotional``
    /// are settlement-currency (USDT) units.
    public var swap: SwapTerms?

    public init(
        id: Int64 = 0, clientOrderID: String, tag: String, account: String, apiKey: String, instrument: String, side: OrderSide,
        type: OrderType, price: Int64?, size: Int64, targetCurrency: String, filled: Int64 = 0, filledNotional: Int64 = 0,
        filledValue: Int64 = 0, state: OrderState = .live, frozen: Int64 = 0, fee: Int64 = 0, lastFill: LastFill? = nil,
        createdAt: Int64, updatedAt: Int64
    ) {
        self.fee = fee
        self.lastFill = lastFill
        self.id = id
        self.clientOrderID = clientOrderID
        self.tag = tag
        self.account = account
        self.apiKey = apiKey
        self.instrument = instrument
        self.side = side
        self.type = type
        self.price = price
        self.size = size
        self.targetCurrency = targetCurrency
        self.filled = filled
        self.filledNotional = filledNotional
        self.filledValue = filledValue
        self.state = state
        self.frozen = frozen
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// `tdMode` as OKX names it.
    public var tradeMode: String { swap?.marginMode.rawValue ?? "cash" }
}

/// What a SWAP order adds to an order: its margin mode, position side, reduce-only flag and leverage.
public struct SwapTerms: Sendable, Hashable, Codable {
    public var marginMode: MarginMode
    public var positionSide: PositionSide
    public var reduceOnly: Bool
    public var leverage: Leverage

    public init(marginMode: MarginMode, positionSide: PositionSide, reduceOnly: Bool, leverage: Leverage) {
        self.marginMode = marginMode
        self.positionSide = positionSide
        self.reduceOnly = reduceOnly
        self.leverage = leverage
    }
}

/// An order's latest fill: `tradeId`, `fillPx`, `fillSz`, `fillTime` of OKX's order object.
public struct LastFill: Sendable, Hashable, Codable {
    public var tradeID: Int64
    public var price: Int64
    public var size: Int64
    public var time: Int64

    public init(tradeID: Int64, price: Int64, size: Int64, time: Int64) {
        self.tradeID = tradeID
        self.price = price
        self.size = size
        self.time = time
    }
}

/// A trade between a taker and a maker order.
public struct Fill: Sendable, Hashable, Codable {
    public var tradeID: Int64
    public var instrument: String
    public var takerOrder: Int64
    public var makerOrder: Int64
    public var takerAccount: String
    public var makerAccount: String
    /// The taker's side.
    public var side: OrderSide
    public var price: Int64
    public var size: Int64
    /// Quote units that changed hands.
    public var notional: Int64
    public var time: Int64
    /// The fees each side paid, in units of the currency it received, and the rates they were charged at.
    public var takerFee: Int64 = 0
    public var makerFee: Int64 = 0
    public var takerFeeRate: Amount = .zero(scale: FeeRates.scale)
    public var makerFeeRate: Amount = .zero(scale: FeeRates.scale)
    /// SWAP fills: the profit or loss each side realised by what the fill closed (settlement units; `fillPnl`).
    public var takerPnl: Int64 = 0
    public var makerPnl: Int64 = 0
    /// The two orders' `posSide` as read back ("" for spot orders and a fill being placed).
    public var takerPositionSide = ""
    public var makerPositionSide = ""
    /// The two orders' clOrdId and tag, as read back ("" on a fill being placed).
    public var takerClientOrderID = ""
    public var takerTag = ""
    public var makerClientOrderID = ""
    public var makerTag = ""

    public init(
        tradeID: Int64 = 0, instrument: String, takerOrder: Int64, makerOrder: Int64, takerAccount: String, makerAccount: String,
        side: OrderSide, price: Int64, size: Int64, notional: Int64, time: Int64
    ) {
        self.tradeID = tradeID
        self.instrument = instrument
        self.takerOrder = takerOrder
        self.makerOrder = makerOrder
        self.takerAccount = takerAccount
        self.makerAccount = makerAccount
        self.side = side
        self.price = price
        self.size = size
        self.notional = notional
        self.time = time
    }
}

extension Order {
    /// `total + value` for ``filledValue``: -1 (and -1 from then on) when the value or the sum does not fit.
    public static func accumulated(_ total: Int64, _ value: Int64?) -> Int64 {
        guard total >= 0, let value else { return -1 }
        let (sum, overflow) = total.addingReportingOverflow(value)
        return overflow ? -1 : sum
    }
}

extension Instrument {
    /// The order's `avgPx`: exact from ``Order/filledValue``, or, for an order whose exact value outgrew 64 bits,
    /// the quote amount per base unit to the price's decimals (rounded down).
    public func averagePrice(of order: Order) -> String {
        guard order.filled > 0 else { return "" }
        if order.filledValue >= 0 { return averagePrice(value: order.filledValue, filled: order.filled) }
        var numerator = Int128(order.filledNotional)
        let shift = tickSize.scale + lotSize.scale - quoteScale
        for _ in 0..<max(0, shift) {
            let (shifted, overflow) = numerator.multipliedReportingOverflow(by: 10)
            guard !overflow else { return "" }
            numerator = shifted
        }
        for _ in 0..<max(0, -shift) { numerator /= 10 }
        return Amount.text(units: numerator / Int128(order.filled), scale: tickSize.scale)
    }

    /// Quote units of `size` at `price`, rounded down (both sides of a fill use this one value, so money is conserved);
    /// nil when it does not fit 64 bits.
    public func notional(price: Int64, size: Int64) -> Int64? {
        scaled(Int128(price) * Int128(size), roundingUp: false)
    }

    /// `price × size` exactly, in price units × size units (scale tick + lot); nil when it does not fit 64 bits.
    public func value(price: Int64, size: Int64) -> Int64? {
        Int64(exactly: Int128(price) * Int128(size))
    }

    /// The average price of `filled` size units whose ``value(price:size:)``s sum to `value`, as OKX decimal text:
    /// exact whenever the quotient has at most tick + lot decimals (at most 18; always exact when every fill had the
    /// same price), else rounded half to even at that many decimals. "" when nothing filled.
    public func averagePrice(value: Int64, filled: Int64) -> String {
        guard filled > 0 else { return "" }
        // value / filled is in price units; `lot` more decimals (up to 18 in all) keep the average of fills exact.
        let extra = max(0, min(lotSize.scale, 18 - tickSize.scale))
        var numerator = Int128(value)
        for _ in 0..<extra { numerator *= 10 }
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: Int128(filled))
        let twice = remainder * 2, divisor = Int128(filled)
        let roundsUp = twice > divisor || (twice == divisor && quotient % 2 != 0)
        return Amount.text(units: quotient + (roundsUp ? 1 : 0), scale: tickSize.scale + extra)
    }

    /// Quote units to freeze for a resting buy: rounded up, so it always covers what its fills will pay; nil when
    /// it does not fit.
    public func notionalRoundedUp(price: Int64, size: Int64) -> Int64? {
        scaled(Int128(price) * Int128(size), roundingUp: true)
    }

    /// `price × size` units (scale tick + lot) → quote units (the quote currency's `quoteScale`).
    private func scaled(_ product: Int128, roundingUp: Bool) -> Int64? {
        let shift = quoteScale - tickSize.scale - lotSize.scale
        var value = product
        if shift >= 0 {
            // A quote scale above the price and size scales multiplies a product that may already fill 127 bits.
            for _ in 0..<shift {
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                value = shifted
            }
        } else {
            var divisor: Int128 = 1
            for _ in 0..<(-shift) { divisor *= 10 }
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
            value = quotient + (roundingUp && remainder > 0 ? 1 : 0)
        }
        return Int64(exactly: value)
    }

    /// The quote currency's scale, recorded with the instrument by ``withQuoteScale(_:)``; 6 (USDT) by default.
    public var quoteScale: Int { quoteCurrencyScale ?? 6 }
}
