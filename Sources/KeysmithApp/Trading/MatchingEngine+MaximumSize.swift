import KeysmithCore
import KeysmithStore

/// The most an account can order of one instrument now (`account/max-size`) and what it has available for it
/// (`account/max-avail-size`), worked out with the very amounts a placement freezes, so an order of the size
/// reported is accepted and one lot more is refused for want of balance or margin.
public struct MaximumOrderSize: Sendable, Hashable {
    /// SPOT: base currency to buy, quote currency to sell (OKX's units); SWAP: contracts to open long and short.
    public var buy: Amount
    public var sell: Amount
    /// The margin currency (SWAP), or the currency the buy is counted in (SPOT: the base).
    public var currency: String
}

/// What an account has available for an instrument: SPOT, the quote currency to buy with and the base currency to
/// sell; SWAP, the margin currency's available balance, the same for either side.
public struct AvailableForOrders: Sendable, Hashable {
    public var buy: Amount
    public var sell: Amount
}

extension MatchingEngine {
    /// `account/max-size`: SPOT (`tdMode` cash) buys as much base currency at `price` (else the best ask, else the
    /// last trade) as the available quote balance pays for, and sells the available base balance, reported as its
    /// worth in the quote currency at `price` (else the best bid, else the last trade), as OKX does. SWAP (`tdMode`
    /// cross or isolated) opens as many contracts as the available balance holds the margin of at `leverage` (else
    /// the account's setting for that side) and the fee on, at `price` (else the mark): a long and a short in
    /// one-way mode, each leg in long/short mode; never more than the instrument's largest limit order, nor than the
    /// leverage's position tier leaves room for. Without a
    /// price to count at, 0.
    public func maximumSize(
        _ inst: Instrument, tradeMode: String, price: String?, leverage: String?, account: Account
    ) async throws(OKXError) -> MaximumOrderSize {
        try await load()
        let at = try price.map { text throws(OKXError) in try Self.limitPrice(text, inst: inst) }
        switch inst.type {
        case .spot:
            let (quote, base) = try await spotAvailable(inst, tradeMode: tradeMode, account: account)
            var buyPrice = at, sellPrice = at
            if at == nil {
                buyPrice = try await spotPrice(inst, best: .sell)
                sellPrice = try await spotPrice(inst, best: .buy)
            }
            // A pair whose lot has more decimals than its base currency takes no order at all.
            guard inst.sizesFitBaseCurrency else {
                return MaximumOrderSize(buy: .zero(scale: inst.lotSize.scale), sell: .zero(scale: inst.quoteScale), currency: inst.base)
            }
            let lots = buyPrice.map { price in
                Self.largest(inst, upTo: inst.maximumLimitSize.units) { inst.notionalRoundedUp(price: price, size: $0).map { $0 <= quote } ?? false }
            } ?? 0
            // The base balance in whole lots, valued in the quote currency.
            let sellable = Self.largest(inst, upTo: inst.maximumLimitSize.units) { inst.baseUnits($0).map { $0 <= base } ?? false }
            let worth = sellPrice.flatMap { inst.notional(price: $0, size: sellable) } ?? 0
            return MaximumOrderSize(
                buy: Amount(units: lots, scale: inst.lotSize.scale), sell: Amount(units: worth, scale: inst.quoteScale), currency: inst.base)
        case .swap:
            let marginMode = try Self.swapMarginMode(tradeMode, account: account)
            let available = try await ledger.tradingAvailable(account: account.uid, currency: inst.quote)
            let settings = try await mapped { @Sendable [store] () async throws(StoreError) in try await store.leverageSettings(account: account.uid) }
            let chosen = try leverage.map { text throws(OKXError) in
                try Leverage.parse(text, maximum: inst.contract?.maximumLeverage ?? 1)
            }
            let schedule = fees.current.rates(account: account.uid, instrumentType: InstrumentType.swap.rawValue)
            // The dearer of the two rates: the order may take or rest.
            let rate = schedule.taker.units < schedule.maker.units ? schedule.taker : schedule.maker
            var counted = at
            if counted == nil { counted = try await markSource.mark(of: inst)?.rescaled(to: inst.tickSize.scale)?.units }
            guard let price = counted, price > 0 else {
                return MaximumOrderSize(buy: .zero(scale: inst.lotSize.scale), sell: .zero(scale: inst.lotSize.scale), currency: inst.quote)
            }
            func opening(_ side: PositionSide, by orderSide: OrderSide) -> Int64 {
                let lever = chosen ?? settings.leverage(instrument: inst.id, marginMode: marginMode, side: side)
                let terms = SwapTerms(marginMode: marginMode, positionSide: side, reduceOnly: false, leverage: lever)
                let key = PositionKey(account: account.uid, instrument: inst.id, marginMode: marginMode, side: side)
                let limit = min(inst.maximumLimitSize.units, openingAllowance(key, side: orderSide, leverage: lever, inst: inst))
                return Self.largest(inst, upTo: limit) { size in
                    Self.swapHold(inst: inst, price: price, remaining: size, terms: terms, side: orderSide, rate: rate).map { $0 <= available } ?? false
                }
            }
            let (long, short): (PositionSide, PositionSide) = account.positionMode == .net ? (.net, .net) : (.long, .short)
            return MaximumOrderSize(
                buy: Amount(units: opening(long, by: .buy), scale: inst.lotSize.scale),
                sell: Amount(units: opening(short, by: .sell), scale: inst.lotSize.scale),
                currency: inst.quote)
        }
    }

    /// `account/max-avail-size`: SPOT, the available quote balance (to buy) and base balance (to sell); SWAP, the
    /// available balance of the margin currency for either side.
    public func availableForOrders(_ inst: Instrument, tradeMode: String, account: Account) async throws(OKXError) -> AvailableForOrders {
        switch inst.type {
        case .spot:
            let (quote, base) = try await spotAvailable(inst, tradeMode: tradeMode, account: account)
            return AvailableForOrders(buy: Amount(units: quote, scale: inst.quoteScale), sell: Amount(units: base, scale: inst.baseScale))
        case .swap:
            _ = try Self.swapMarginMode(tradeMode, account: account)
            let margin = Amount(units: try await ledger.tradingAvailable(account: account.uid, currency: inst.quote), scale: inst.quoteScale)
            return AvailableForOrders(buy: margin, sell: margin)
        }
    }

    /// The available quote and base balances of a SPOT order's account (51000 unless `tdMode` is cash).
    private func spotAvailable(_ inst: Instrument, tradeMode: String, account: Account) async throws(OKXError) -> (quote: Int64, base: Int64) {
        guard tradeMode == "cash" else {
            throw OKXError.parameterError("tdMode").with(message: "Parameter tdMode error: SPOT trades in cash")
        }
        return (
            try await ledger.tradingAvailable(account: account.uid, currency: inst.quote),
            try await ledger.tradingAvailable(account: account.uid, currency: inst.base)
        )
    }

    /// The margin mode `tradeMode` names for a SWAP order of `account` (51010 in spot mode, 51000 for `cash`).
    private static func swapMarginMode(_ tradeMode: String, account: Account) throws(OKXError) -> MarginMode {
        let side: String? = account.positionMode == .net ? nil : PositionSide.long.rawValue
        return try SwapOrderRules.check(level: account.level, mode: account.positionMode, tradeMode: tradeMode, positionSide: side).margin
    }

    /// The best price on the book's `side` (bids for `.buy`, asks for `.sell`), else the last trade; nil with neither.
    private func spotPrice(_ inst: Instrument, best side: OrderSide) async throws(OKXError) -> Int64? {
        let depth = try await depth(inst.id, levels: 1)
        if let best = (side == .buy ? depth.bids : depth.asks).first?.0 { return best }
        let store = self.store, id = inst.id
        return try await mapped { () async throws(StoreError) in try await store.trades(instrument: id, limit: 1) }.first?.price
    }

    /// The largest order size of `inst` up to `limit` (lot units) that `fits` — a whole number of lots, at least
    /// the minimum size, else 0 — where `fits` holds for small sizes and, once false, stays false for larger ones.
    static func largest(_ inst: Instrument, upTo limit: Int64, fits: (Int64) -> Bool) -> Int64 {
        let lot = max(1, inst.lotSize.units)
        var (low, high) = (Int64(0), max(0, limit) / lot)
        while low < high {
            // Rounded up, without overflow for any count of lots.
            let middle = low + (high - low) / 2 + (high - low) % 2
            if fits(middle * lot) { low = middle } else { high = middle - 1 }
        }
        let size = low * lot
        return size >= inst.minimumSize.units ? size : 0
    }
}
