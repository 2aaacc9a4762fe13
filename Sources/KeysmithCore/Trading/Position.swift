/// Which position a SWAP order or fill belongs to: one per account, instrument, margin mode and position side
/// (`net` in one-way mode; `long` and `short` legs in long/short mode).
public struct PositionKey: Sendable, Hashable, Codable {
    public var account: String
    public var instrument: String
    public var marginMode: MarginMode
    public var side: PositionSide

    public init(account: String, instrument: String, marginMode: MarginMode, side: PositionSide) {
        self.account = account
        self.instrument = instrument
        self.marginMode = marginMode
        self.side = side
    }
}

/// A position in a linear perpetual, from its first contract to its last: the contracts held, what they cost, the
/// margin set aside for them (held by the ``LedgerEntry/clearing`` account) and what the position has realised.
///
/// Prices are in the instrument's price units, sizes in lot units (contracts × 10^lot scale); money in units of the
/// settlement currency (USDT). ``openValue`` is exact, so `avgPx` is exactly what was paid for the contracts held.
public struct Position: Sendable, Hashable, Codable {
    public var id: Int64
    public var key: PositionKey
    /// Contracts held: signed in one-way mode (below zero is short), never negative for a long or short leg.
    public var size: Int64
    /// Σ price × size of the contracts held (price units × lot units), exact.
    public var openValue: Int64
    /// Settlement units held for the position by the clearing account.
    public var margin: Int64
    public var leverage: Leverage
    /// What closing contracts realised (price moves only: fees and funding are apart), since the position opened.
    public var realizedPnl: Int64
    /// Fees charged on the position's fills (≥ 0).
    public var fee: Int64
    /// Funding received (positive) or paid (negative).
    public var fundingFee: Int64
    /// The largest size the position reached (magnitude).
    public var maximumSize: Int64
    /// Σ price × size of everything the position opened and closed, for `openAvgPx` and `closeAvgPx`.
    public var openedValue: Int64
    public var opened: Int64
    public var closedValue: Int64
    public var closed: Int64
    /// The last fill's trade id (OKX's `tradeId` of a position).
    public var lastTrade: Int64
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: Int64 = 0, key: PositionKey, leverage: Leverage, at time: Int64) {
        self.id = id
        self.key = key
        self.size = 0
        self.openValue = 0
        self.margin = 0
        self.leverage = leverage
        self.realizedPnl = 0
        self.fee = 0
        self.fundingFee = 0
        self.maximumSize = 0
        self.openedValue = 0
        self.opened = 0
        self.closedValue = 0
        self.closed = 0
        self.lastTrade = 0
        self.createdAt = time
        self.updatedAt = time
    }

    /// +1 for a long position, -1 for a short one, 0 for none (a leg's direction is its side's).
    public var direction: Int64 {
        switch key.side {
        case .long: size == 0 ? 0 : 1
        case .short: size == 0 ? 0 : -1
        case .net: size.signum()
        }
    }

    public var isOpen: Bool { size != 0 }

    /// The contracts held, whatever the direction.
    public var magnitude: Int64 { size.magnitude > UInt64(Int64.max) ? .max : Int64(size.magnitude) }

    /// What a fill in `side` does to this position: in one-way mode a buy adds to a long and reduces a short (and
    /// the other way for a sell), turning it over when it exceeds it; on a leg, the side that opens it (buy for
    /// long, sell for short) adds and the other reduces, never beyond the leg.
    public func split(_ side: OrderSide, size fillSize: Int64) -> (closes: Int64, opens: Int64) {
        let towards: Int64 = side == .buy ? 1 : -1
        switch key.side {
        case .net:
            if size == 0 || size.signum() == towards { return (0, fillSize) }
            let closes = min(fillSize, magnitude)
            return (closes, fillSize - closes)
        case .long: return towards == 1 ? (0, fillSize) : (min(fillSize, size), 0)
        case .short: return towards == -1 ? (0, fillSize) : (min(fillSize, size), 0)
        }
    }

    /// How many contracts an order in `side` can close (0 when it would open or add).
    public func closable(by side: OrderSide) -> Int64 {
        let towards: Int64 = side == .buy ? 1 : -1
        return direction != 0 && direction != towards ? magnitude : 0
    }
}

/// What one fill did to a position: the contracts it closed and opened, the profit or loss the closed ones realised
/// and the margin moved (released from the clearing account for what closed, added to it for what opened).
public struct PositionChange: Sendable, Hashable {
    public var closed: Int64 = 0
    public var opened: Int64 = 0
    /// Settlement units realised by what closed (rounded down: toward the clearing account).
    public var pnl: Int64 = 0
    public var releasedMargin: Int64 = 0
    public var addedMargin: Int64 = 0
    /// The position as it was when this fill closed it entirely (for `positions-history`), before anything it opened.
    public var closedPosition: ClosedPosition?

    public init() {}

    /// What the clearing account pays the account for the closed part (negative: what the account owes it).
    public var payout: Int64 { releasedMargin + pnl }
}

/// A position as it closed entirely: its totals from the first contract to the last, and which way it ran.
public struct ClosedPosition: Sendable, Hashable {
    public var position: Position
    public var long: Bool

    public init(position: Position, long: Bool) {
        self.position = position
        self.long = long
    }
}

extension Position {
    /// Applies a fill of `fillSize` lot units at `price` in `side`, opening at `leverage`: the closed part realises
    /// `direction × (exit value − its share of the open value)` and releases its share of the margin (all of both
    /// when the position closes); the opened part adds its value and holds value ÷ leverage, rounded down, as
    /// margin. A position that closes entirely starts again (`id` kept, totals reset) with what the fill opens.
    /// Nil when an amount does not fit 64 bits.
    public mutating func apply(
        _ side: OrderSide, price: Int64, size fillSize: Int64, instrument: Instrument, leverage opening: Leverage, trade: Int64,
        at time: Int64
    ) -> PositionChange? {
        var change = PositionChange()
        let (closes, opens) = split(side, size: fillSize)
        change.closed = closes
        change.opened = opens
        if closes > 0 {
            let held = magnitude, longHeld = direction > 0
            // The closed contracts' share of the open value: rounded up for a long and down for a short, so the
            // realised profit never exceeds the exact one.
            let share = closes == held ? Int128(openValue) : Self.portion(openValue, closes, of: held, roundingUp: longHeld)
            let exit = Int128(price) * Int128(closes)
            let pnlValue = longHeld ? exit - share : share - exit
            guard let pnl = instrument.settlementUnits(pnlValue, roundingUp: false),
                let released = Int64(exactly: closes == held ? Int128(margin) : Self.portion(margin, closes, of: held, roundingUp: false)),
                let exitValue = Int64(exactly: exit), let realized = Self.sum(realizedPnl, pnl),
                let closedTotal = Self.sum(closedValue, exitValue), let remainingValue = Int64(exactly: Int128(openValue) - share)
            else { return nil }
            change.pnl = pnl
            change.releasedMargin = released
            openValue = remainingValue
            margin -= released
            realizedPnl = realized
            closedValue = closedTotal
            closed += closes
            size -= key.side == .net ? direction * closes : closes
            if size == 0 {
                var last = self
                last.updatedAt = time
                last.lastTrade = trade
                change.closedPosition = ClosedPosition(position: last, long: longHeld)
                let id = self.id
                self = Position(id: id, key: key, leverage: opening, at: time)
            }
        }
        if opens > 0 {
            let value = Int128(price) * Int128(opens)
            // One-way positions are signed (a sell opens short); a leg's size counts its contracts.
            let signed = key.side == .net && side == .sell ? -opens : opens
            guard let added = instrument.margin(value: value, leverage: opening), let valueUnits = Int64(exactly: value),
                let newOpen = Self.sum(openValue, valueUnits), let newMargin = Self.sum(margin, added),
                let newOpened = Self.sum(openedValue, valueUnits), let newSize = Self.sum(size, signed)
            else { return nil }
            if size == 0 {
                createdAt = time
                leverage = opening
            }
            change.addedMargin = added
            openValue = newOpen
            margin = newMargin
            openedValue = newOpened
            opened += opens
            size = newSize
            maximumSize = max(maximumSize, magnitude)
        }
        lastTrade = trade
        updatedAt = time
        return change
    }

    /// `value × part ÷ whole`, rounded as asked (`whole` > 0).
    static func portion(_ value: Int64, _ part: Int64, of whole: Int64, roundingUp: Bool) -> Int128 {
        let (quotient, remainder) = (Int128(value) * Int128(part)).quotientAndRemainder(dividingBy: Int128(whole))
        return quotient + (roundingUp && remainder > 0 ? 1 : 0)
    }

    static func sum(_ a: Int64, _ b: Int64) -> Int64? {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : value
    }
}

extension Instrument {
    /// Settlement units (the quote currency's) of a price × size product in contracts: × ``ContractTerms/value``,
    /// rounded down (toward minus infinity) or up; nil when it does not fit 64 bits or this is not a swap.
    public func settlementUnits(_ product: Int128, roundingUp: Bool) -> Int64? {
        settlementUnits(product, dividedBy: 1, roundingUp: roundingUp)
    }

    /// The margin a position of price × size `value` holds at `leverage`: value × ctVal ÷ leverage, rounded down
    /// (the sum of a position's fills' margins then never exceeds what its order froze for them).
    public func margin(value: Int128, leverage: Leverage) -> Int64? {
        // × 100 ÷ hundredths.
        let (scaled, overflow) = value.multipliedReportingOverflow(by: 100)
        guard !overflow else { return nil }
        return settlementUnits(scaled, dividedBy: Int128(leverage.hundredths), roundingUp: false)
    }

    /// `product × ctVal ÷ divisor` in settlement units, rounded toward minus infinity or up.
    func settlementUnits(_ product: Int128, dividedBy divisor: Int128, roundingUp: Bool) -> Int64? {
        guard let terms = contract, divisor > 0 else { return nil }
        var (numerator, overflow) = product.multipliedReportingOverflow(by: Int128(terms.value.units))
        guard !overflow else { return nil }
        var denominator = divisor
        let shift = quoteScale - tickSize.scale - lotSize.scale - terms.value.scale
        for _ in 0..<max(0, shift) {
            (numerator, overflow) = numerator.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
        }
        for _ in 0..<max(0, -shift) {
            (denominator, overflow) = denominator.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
        }
        var (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        if remainder != 0 {
            // Truncation went toward zero: step to the floor or the ceiling.
            if roundingUp && remainder > 0 { quotient += 1 }
            if !roundingUp && remainder < 0 { quotient -= 1 }
        }
        return Int64(exactly: quotient)
    }

    /// The value in settlement units of `size` contracts at `price`, rounded down (a fill's `notional`).
    public func contractValue(price: Int64, size: Int64) -> Int64? {
        settlementUnits(Int128(price) * Int128(size), roundingUp: false)
    }
}

extension Position {
    /// The profit or loss (settlement units, rounded down) of the position valued at `price`.
    public func profit(at price: Int64, instrument: Instrument) -> Int64? {
        instrument.settlementUnits(Int128(direction) * (Int128(price) * Int128(magnitude) - Int128(openValue)), roundingUp: false)
    }

    /// The bankruptcy price: where the position's loss takes its whole margin — the lowest tick price at which a
    /// long still keeps `margin + profit ≥ 0`, the highest for a short. Nil for no position.
    public func bankruptcyPrice(instrument: Instrument) -> Int64? {
        guard isOpen else { return nil }
        return boundary(instrument: instrument) { price in
            guard let profit = profit(at: price, instrument: instrument) else { return false }
            return Int128(margin) + Int128(profit) >= 0
        }
    }

    /// The liquidation price: the first tick price at which the margin and the profit at it no longer exceed the
    /// maintenance margin there (`maintenance(value)` of the notional) — the highest such price for a long, the
    /// lowest for a short. Nil for no position, or when no price liquidates it.
    public func liquidationPrice(instrument: Instrument, maintenance: (Int64) -> Int64) -> Int64? {
        guard isOpen else { return nil }
        // The first price that is safe, one tick beyond the liquidation price.
        let safe = boundary(instrument: instrument) { price in
            guard let profit = profit(at: price, instrument: instrument),
                let notional = instrument.settlementUnits(Int128(price) * Int128(magnitude), roundingUp: false)
            else { return false }
            return Int128(margin) + Int128(profit) > Int128(maintenance(notional))
        }
        guard let safe else { return nil }
        let tick = Int128(instrument.tickSize.units)
        let price = direction > 0 ? Int128(safe) - tick : Int128(safe) + tick
        return price > 0 ? Int64(exactly: price) : nil
    }

    /// The tick price where `holds` starts to hold — for a long the lowest price where it does (it holds above),
    /// for a short the highest (it holds below); found by bisection from 1 tick to twice the average price (a
    /// position's loss takes its whole margin, at any leverage from 1, within that range).
    private func boundary(instrument: Instrument, _ holds: (Int64) -> Bool) -> Int64? {
        let tick = max(1, instrument.tickSize.units)
        let average = Int128(openValue) / Int128(max(1, magnitude))
        var low: Int64 = 1, high = Int64(clamping: min((2 * average) / Int128(tick) + 2, Int128(Int64.max / tick)))  // in ticks
        if direction > 0 {
            guard holds(high * tick) else { return nil }
            if holds(low * tick) { return low * tick }
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if holds(middle * tick) { high = middle } else { low = middle }
            }
            return high * tick
        } else {
            guard holds(low * tick) else { return nil }
            if holds(high * tick) { return high * tick }
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if holds(middle * tick) { low = middle } else { high = middle }
            }
            return low * tick
        }
    }
}
