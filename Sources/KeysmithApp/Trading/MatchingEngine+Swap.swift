import KeysmithCore
import KeysmithStore

/// Linear perpetual swaps on the same books as spot: a SWAP order is sized in contracts and settled in the quote
/// currency (USDT). Each fill moves both sides' positions (``Position/apply(_:price:size:instrument:leverage:trade:at:)``):
/// what it opens sets margin aside in the ``LedgerEntry/clearing`` account, what it closes releases its share of the
/// margin with the profit or loss it realised, and each side pays its fee rate on the contracts' value. A resting
/// order freezes the margin its remaining contracts would hold at its leverage and its maker fee (only the fee for an
/// order that closes a position), so a maker always has what its fills cost.
extension MatchingEngine {
    /// Places a SWAP order, or amends the open SWAP order `original` to `request` (at the leverage it was placed
    /// with; see ``placeValidated(_:key:account:origin:replacing:auditDetails:)``).
    func placeSwap(
        _ request: OrderRequest, inst: Instrument, key: APIKey, account: Account, origin: AuditOrigin, replacing original: Order? = nil,
        auditDetails: [String: String] = [:]
    ) async throws(OKXError) -> Order {
        let (marginMode, positionSide) = try SwapOrderRules.check(
            level: account.level, mode: account.positionMode, tradeMode: request.tradeMode, positionSide: request.positionSide)
        guard let side = OrderSide(rawValue: request.side) else { throw OKXError.parameterError("side") }
        guard let type = OrderType(rawValue: request.type) else { throw OKXError.parameterError("ordType") }
        if let target = request.targetCurrency, !target.isEmpty {
            throw OKXError.parameterError("tgtCcy").with(message: "Parameter tgtCcy error: SWAP orders are sized in contracts")
        }
        let size = try Self.size(request.size, inst: inst, quoteSized: false)
        if type == .market && size > inst.maximumMarketSize.units {
            throw OKXError.parameterError("sz").with(message: "Parameter sz error: a market order is at most \(inst.maximumMarketSize.text) contracts")
        }
        let price = type == .market ? nil : try Self.limitPrice(request.price, inst: inst)
        let limits = try await priceLimits(inst)
        // An amendment that keeps its price is not refused for a mark that moved since it was placed.
        let repriced = original == nil || original?.price != price
        if repriced, let price, side == .buy && price > limits.highest || side == .sell && price < limits.lowest {
            throw OKXError.priceOutsideLimit(
                highest: Amount(units: limits.highest, scale: inst.tickSize.scale).text,
                lowest: Amount(units: limits.lowest, scale: inst.tickSize.scale).text)
        }
        let store = self.store, uid = account.uid
        let terms: SwapTerms
        if let placed = original?.swap {
            terms = placed
        } else {
            let settings = try await mapped { @Sendable () async throws(StoreError) in try await store.leverageSettings(account: uid) }
            terms = SwapTerms(
                marginMode: marginMode, positionSide: positionSide, reduceOnly: positionSide == .net && request.reduceOnly,
                leverage: settings.leverage(instrument: inst.id, marginMode: marginMode, side: positionSide))
        }
        let leverage = terms.leverage
        let positionKey = PositionKey(account: uid, instrument: inst.id, marginMode: marginMode, side: positionSide)
        // An amendment counts what it has left to fill, and not itself among the position's other orders.
        let unfilled = size - (original?.filled ?? 0), amending = original?.id ?? 0
        if terms.closes(side) {
            try checkClosable(unfilled, side: side, key: positionKey, inst: inst, excluding: amending)
        } else if unfilled > openingAllowance(positionKey, side: side, leverage: leverage, inst: inst, excluding: amending) {
            throw OKXError.positionAboveTier(
                leverage: leverage.description,
                maximum: Amount(units: PositionTiers.maximumSize(of: inst, leverage: leverage), scale: inst.lotSize.scale).text)
        }

        let book = bookForPlacing(inst.id, replacing: original, price: price, size: size)
        let now = clock.milliseconds
        let schedule = fees.current
        let takerRate = schedule.rates(account: uid, instrumentType: InstrumentType.swap.rawValue).taker
        // Makers that cannot take their match — a closing order whose position the placement already closed, an
        // account that cannot pay a loss beyond the margin its order releases — are cancelled, and the order is
        // matched again without them, so no maker blocks the book.
        var working = book
        var dropped: [Order] = []
        var matches: [Match]
        var plan: SwapPlan
        var cancelledAtOnce: Bool
        var order: Order
        while true {
            // A market order trades no further than the price limit on its side.
            matches = working.plan(side: side, limit: price ?? (side == .buy ? limits.highest : limits.lowest), size: unfilled)
            let matchedSize = matches.reduce(Int64(0)) { $0 + $1.size }
            if original != nil, type == .postOnly, !matches.isEmpty { throw OKXError.amendPostOnlyWouldTake }
            // A post_only order that would take, or a fok order the book cannot fill, is cancelled untouched.
            cancelledAtOnce = type == .postOnly && !matches.isEmpty || type == .fok && matchedSize < size
            if cancelledAtOnce { matches = [] }
            order = Order(
                clientOrderID: request.clientOrderID, tag: request.tag, account: uid, apiKey: key.apiKey, instrument: inst.id, side: side,
                type: type, price: price, size: size, targetCurrency: "", createdAt: now, updatedAt: now)
            order.swap = terms
            plan = SwapPlan(inst: inst, now: now, known: positions)
            if let original {
                order = Self.amended(original, price: price, size: size, at: now)
                plan.entries += Self.release(original, currency: inst.quote)
            }
            var unfit: [Int64] = []
            for match in matches {
                guard let maker = open[match.maker.id], maker.swap != nil else { throw OKXError.systemError }
                let makerRate = schedule.rates(account: maker.account, instrumentType: InstrumentType.swap.rawValue).maker
                guard try plan.fill(match, taker: &order, takerRate: takerRate, maker: maker, makerRate: makerRate) else {
                    unfit = [maker.id]
                    break
                }
            }
            if unfit.isEmpty { unfit = try await makersShortOfFunds(plan, currency: inst.quote) }
            guard !unfit.isEmpty else { break }
            for id in unfit {
                guard let maker = open[id], let makerPrice = maker.price else { continue }
                working.remove(id: id, side: maker.side, price: makerPrice)
                dropped.append(maker)
            }
        }
        for maker in dropped { plan.cancel(maker) }
        let notional = try Self.swapNotional(price: price, size: size, matches: matches, inst: inst)
        try await checkSpending(key: key, inst: inst, notional: notional, now: now, dailyIncrease: Self.increase(notional, over: original, inst))
        let rests = !cancelledAtOnce && (type == .limit || type == .postOnly) && order.filled < size
        if rests, let price {
            let makerRate = schedule.rates(account: uid, instrumentType: InstrumentType.swap.rawValue).maker
            guard let hold = Self.swapHold(inst: inst, price: price, remaining: size - order.filled, terms: terms, side: side, rate: makerRate)
            else { throw Self.tooLarge }
            plan.entries.append(
                LedgerEntry(account: uid, kind: .trading, currency: inst.quote, availableDelta: -hold, frozenDelta: hold))
            order.frozen = hold
            order.state = order.filled > 0 ? .partiallyFilled : .live
        } else {
            order.state = order.filled == size ? .filled : .canceled
        }
        var closing: [PositionKey: [OrderSide: [Order]]] = [:]
        for key in plan.positions.keys {
            for side in [OrderSide.buy, .sell] { closing[key, default: [:]][side] = swapOrders(key, side: side, closes: true) }
        }
        plan.cancelExcessReductions(closing: { key, side in closing[key]?[side] ?? [] }, taker: order)
        var placement = OrderPlacement(
            order: order, makers: plan.makers, fills: plan.fills,
            movements: plan.entries.isEmpty ? [] : [LedgerMovement(entries: plan.entries)], notional: notional)
        placement.positions = plan.positions.values.sorted { ($0.key.account, $0.id) < ($1.key.account, $1.id) }
        placement.amendment = Self.amendment(of: original, to: price, size: size, increase: Self.increase(notional, over: original, inst), by: key)
        placement.closedPositions = plan.closed
        let audit = origin.record(
            at: now, account: uid, target: "",
            details: [
                "instId": inst.id, "side": side.rawValue, "ordType": type.rawValue, "sz": request.size, "px": request.price ?? "",
                "tdMode": marginMode.rawValue, "posSide": positionSide.rawValue, "reduceOnly": terms.reduceOnly ? "true" : "false",
                "canceled": plan.cancelled.map(String.init).joined(separator: ","),
            ].merging(auditDetails) { _, amendment in amendment })
        let stored: (order: Order, fills: [Fill], positions: [Position])
        do {
            stored = try await self.store.place(placement, audit: audit)
        } catch where error.kind == .insufficientFunds {
            throw original == nil ? OKXError.insufficientMargin(inst.quote) : OKXError.amendInsufficientBalance(inst.quote)
        } catch where error.kind == .outOfRange {
            throw Self.tooLarge
        } catch {
            throw error.okxError
        }
        for position in stored.positions { positions[position.key] = position }
        settle(stored.order, price: price, matches: matches, makers: plan.makers, on: book)
        publish(
            instrument: inst.id, orders: [stored.order] + plan.makers, fills: stored.fills, positions: stored.positions,
            movements: placement.movements)
        return stored.order
    }

    /// OKX's price limits of a SWAP order: a buy at most, and a sell at least, ``priceBand`` away from the mark
    /// (rounded to the tick, inward); a market order trades no further. 51006 while the instrument has no mark price.
    func priceLimits(_ inst: Instrument) async throws(OKXError) -> (lowest: Int64, highest: Int64) {
        guard let mark = try await markSource.mark(of: inst)?.rescaled(to: inst.tickSize.scale), mark.units > 0 else {
            throw OKXError.priceOutsideLimit(highest: "", lowest: "").with(
                message: "Order price is not within the price limit: \(inst.id) has no mark price yet (no spot price of \(inst.family) and no pin)")
        }
        let value = Int128(mark.units), (percent, hundred) = (Int128(Self.priceBand), Int128(100))
        let highest = value * (hundred + percent) / hundred
        let (low, remainder) = (value * (hundred - percent)).quotientAndRemainder(dividingBy: hundred)
        let tick = Int128(inst.tickSize.units)
        let up = (low + (remainder > 0 ? 1 : 0) + tick - 1) / tick * tick
        return (Int64(clamping: max(up, tick)), Int64(clamping: highest / tick * tick))
    }

    /// How far from the mark a SWAP order may be priced, in percent.
    static let priceBand: Int64 = 5

    /// Maker orders of accounts whose available balance cannot pay what the plan's fills take from it.
    private func makersShortOfFunds(_ plan: SwapPlan, currency: String) async throws(OKXError) -> [Int64] {
        var short: [Int64] = []
        for (account, draw) in plan.draws.sorted(by: { $0.key < $1.key }) {
            if try await ledger.tradingAvailable(account: account, currency: currency) < draw { short += plan.drawing[account] ?? [] }
        }
        return short
    }

    /// An order that closes `key`'s position (reduce-only, or the closing side of a leg) may close at most what the
    /// position holds beyond the account's other open closing orders: 51170 when a one-way position runs the
    /// order's way, 51169 when there is nothing (left) to close, 51000 when the order is larger.
    private func checkClosable(_ size: Int64, side: OrderSide, key: PositionKey, inst: Instrument, excluding: Int64) throws(OKXError) {
        let position = positions[key]
        if key.side == .net, let position, position.isOpen, position.closable(by: side) == 0 {
            throw OKXError.reduceOnlySameDirection
        }
        let pending = swapOrders(key, side: side, closes: true).reduce(Int64(0)) { total, other in
            other.closes(key, side: side) && other.id != excluding ? total + (other.size - other.filled) : total
        }
        let left = (position?.closable(by: side) ?? 0) - pending
        guard left > 0 else { throw OKXError.noPositionToReduce }
        guard size <= left else {
            let text = Amount(units: left, scale: inst.lotSize.scale).text
            throw OKXError.parameterError("sz").with(
                message: "Parameter sz error: this order may close at most \(text) contracts, what the position holds beyond other closing orders")
        }
    }

    /// How many contracts an order in `side` may open on `key`'s position at `leverage`: what the leverage's tier
    /// allows (``PositionTiers/maximumSize(of:leverage:)``), less what the position already holds that way and what
    /// the account's other orders would open on it; in one-way mode an order that first closes a position the other
    /// way may be larger by what it closes.
    func openingAllowance(_ key: PositionKey, side: OrderSide, leverage: Leverage, inst: Instrument, excluding: Int64 = 0) -> Int64 {
        let position = positions[key]
        let towards: Int64 = side == .buy ? 1 : -1
        let held: Int64, closing: Int64
        if key.side == .net {
            let direction = position?.direction ?? 0
            held = direction == towards ? position?.magnitude ?? 0 : 0
            closing = direction == -towards ? position?.magnitude ?? 0 : 0
        } else {
            (held, closing) = (position?.magnitude ?? 0, 0)
        }
        let pending = swapOrders(key, side: side, closes: false).reduce(Int128(0)) { total, order in
            order.id == excluding ? total : total + Int128(order.size - order.filled)
        }
        let allowance = Int128(PositionTiers.maximumSize(of: inst, leverage: leverage)) - Int128(held) - pending + Int128(closing)
        return Int64(clamping: max(0, allowance))
    }

    /// What a SWAP order counts in USDT towards its key's limits: the value of its contracts at its price, or of its
    /// matches for a market order (51000 when that does not fit 64 bits).
    private static func swapNotional(price: Int64?, size: Int64, matches: [Match], inst: Instrument) throws(OKXError) -> Int64 {
        if let price {
            guard let value = inst.contractValue(price: price, size: size) else { throw tooLarge }
            return value
        }
        var total: Int64 = 0
        for match in matches {
            guard let value = inst.contractValue(price: match.price, size: match.size), let next = sum(total, value) else { throw tooLarge }
            total = next
        }
        return total
    }

    /// What a resting SWAP order freezes for `remaining` contracts at `price`: the margin they would hold at its
    /// leverage (none for an order that closes a position) and the maker fee on their value, rounded up.
    static func swapHold(inst: Instrument, price: Int64, remaining: Int64, terms: SwapTerms, side: OrderSide, rate: Amount) -> Int64? {
        let value = Int128(price) * Int128(remaining)
        guard let margin = terms.closes(side) ? 0 : inst.margin(value: value, leverage: terms.leverage),
            let worth = inst.settlementUnits(value, roundingUp: true)
        else { return nil }
        return sum(margin, FeeRates.charge(worth, at: rate))
    }
}

/// The fills of one SWAP placement as they are worked out: positions as they become, ledger lines, makers, fills.
private struct SwapPlan {
    let inst: Instrument
    let now: Int64
    /// The engine's positions before this placement.
    let known: [PositionKey: Position]
    var positions: [PositionKey: Position] = [:]
    var closed: [ClosedPosition] = []
    var entries: [LedgerEntry] = []
    var makers: [Order] = []
    var fills: [Fill] = []
    /// What makers' fills take from their accounts' available balances (beyond their frozen ones), and which
    /// orders take it.
    var draws: [String: Int64] = [:]
    var drawing: [String: [Int64]] = [:]
    /// Orders the placement cancelled.
    var cancelled: [Int64] = []

    init(inst: Instrument, now: Int64, known: [PositionKey: Position]) {
        self.inst = inst
        self.now = now
        self.known = known
    }

    private static let tooLarge = OKXError.parameterError("sz").with(message: "Parameter sz error: the order's size or value is too large")

    /// One match: both positions move, the maker's frozen margin and fee pay its side, the taker pays from what is
    /// available (the database refuses a balance that would go below zero: 51008).
    /// False (and nothing changed) when the maker closes a position that can no longer take the whole match.
    mutating func fill(_ match: Match, taker order: inout Order, takerRate: Amount, maker original: Order, makerRate: Amount)
        throws(OKXError) -> Bool
    {
        var maker = makers.last(where: { $0.id == original.id }) ?? original
        guard let makerTerms = maker.swap, let takerTerms = order.swap else { throw OKXError.systemError }
        let makerKey = PositionKey(account: maker.account, instrument: inst.id, marginMode: makerTerms.marginMode, side: makerTerms.positionSide)
        if makerTerms.closes(maker.side) {
            let position = positions[makerKey] ?? known[makerKey]
            guard (position?.closable(by: maker.side) ?? 0) >= match.size else { return false }
        }
        let index = Int64(fills.count)
        guard let paid = inst.contractValue(price: match.price, size: match.size) else { throw Self.tooLarge }
        let exact = inst.value(price: match.price, size: match.size)
        // The maker's frozen balance holds the margin of its remaining contracts and a fee reserve: this fill
        // releases the margin share of the contracts it takes, and pays the fee from the reserve (never beyond it).
        let remaining = maker.size - maker.filled
        guard let reserved = Self.reservedMargin(inst, maker.price ?? match.price, remaining, makerTerms, maker.side),
            let reservedAfter = Self.reservedMargin(inst, maker.price ?? match.price, remaining - match.size, makerTerms, maker.side)
        else { throw Self.tooLarge }
        let marginRelease = reserved - reservedAfter
        let takerFee = FeeRates.charge(paid, at: takerRate)
        let makerFee = max(0, min(FeeRates.charge(paid, at: makerRate), maker.frozen - reserved))

        let takerKey = PositionKey(account: order.account, instrument: inst.id, marginMode: takerTerms.marginMode, side: takerTerms.positionSide)
        let takerChange = try move(takerKey, order.side, match, fee: takerFee, leverage: takerTerms.leverage, trade: index)
        let makerChange = try move(makerKey, maker.side, match, fee: makerFee, leverage: makerTerms.leverage, trade: index)

        guard let takerLine = Self.exact(Int128(takerChange.payout) - Int128(takerChange.addedMargin) - Int128(takerFee)),
            let makerLine = Self.exact(Int128(marginRelease) - Int128(makerChange.addedMargin) + Int128(makerChange.payout)),
            let clearing = Self.exact(
                Int128(takerChange.addedMargin) + Int128(makerChange.addedMargin) - Int128(takerChange.payout) - Int128(makerChange.payout))
        else { throw Self.tooLarge }
        if makerLine < 0 {
            // A loss beyond the margin the fill releases: paid from what the maker has available.
            draws[maker.account, default: 0] = draws[maker.account, default: 0].addingClamped(-makerLine)
            drawing[maker.account, default: []].append(maker.id)
        }
        entries.append(
            LedgerEntry(
                account: order.account, kind: .trading, currency: inst.quote, availableDelta: takerLine,
                trade: TradeLine(order: 0, trade: index, fee: takerFee)))
        entries.append(
            LedgerEntry(
                account: maker.account, kind: .trading, currency: inst.quote, availableDelta: makerLine,
                frozenDelta: -(marginRelease + makerFee), trade: TradeLine(order: maker.id, trade: index, fee: makerFee)))
        if clearing != 0 {
            entries.append(LedgerEntry(account: LedgerEntry.clearing, kind: .trading, currency: inst.quote, availableDelta: clearing))
        }
        if takerFee + makerFee > 0 {
            entries.append(LedgerEntry(account: LedgerEntry.fees, kind: .trading, currency: inst.quote, availableDelta: takerFee + makerFee))
        }

        guard let makerNotional = MatchingEngine.sum(maker.filledNotional, paid), let makerFees = MatchingEngine.sum(maker.fee, makerFee),
            let takerNotional = MatchingEngine.sum(order.filledNotional, paid), let takerFees = MatchingEngine.sum(order.fee, takerFee)
        else { throw Self.tooLarge }
        maker.filled += match.size
        maker.filledNotional = makerNotional
        maker.filledValue = Order.accumulated(maker.filledValue, exact)
        maker.fee = makerFees
        maker.frozen -= marginRelease + makerFee
        maker.updatedAt = now
        maker.state = maker.filled == maker.size ? .filled : .partiallyFilled
        if maker.state == .filled && maker.frozen > 0 {
            // What the fee reserve kept beyond the fees it paid returns to the maker.
            entries.append(
                LedgerEntry(account: maker.account, kind: .trading, currency: inst.quote, availableDelta: maker.frozen, frozenDelta: -maker.frozen))
            maker.frozen = 0
        }
        if let at = makers.firstIndex(where: { $0.id == maker.id }) { makers[at] = maker } else { makers.append(maker) }
        order.filled += match.size
        order.filledNotional = takerNotional
        order.filledValue = Order.accumulated(order.filledValue, exact)
        order.fee = takerFees

        var fill = Fill(
            instrument: inst.id, takerOrder: 0, makerOrder: maker.id, takerAccount: order.account, makerAccount: maker.account,
            side: order.side, price: match.price, size: match.size, notional: paid, time: now)
        fill.takerFee = takerFee
        fill.makerFee = makerFee
        fill.takerFeeRate = takerRate
        fill.makerFeeRate = makerRate
        fill.takerPnl = takerChange.pnl
        fill.makerPnl = makerChange.pnl
        fills.append(fill)
        return true
    }

    /// Moves one side's position by a fill, charging it the fee; a position the fill closes entirely is kept for
    /// `positions-history`.
    private mutating func move(_ key: PositionKey, _ side: OrderSide, _ match: Match, fee: Int64, leverage: Leverage, trade: Int64)
        throws(OKXError) -> PositionChange
    {
        var position = positions[key] ?? known[key] ?? Position(key: key, leverage: leverage, at: now)
        // A fill that closes the position and opens the other way charges each part its share of the fee.
        let (closes, opens) = position.split(side, size: match.size)
        let closingFee = opens == 0 ? fee : Int64(Int128(fee) * Int128(closes) / Int128(match.size))
        guard let fees = MatchingEngine.sum(position.fee, closingFee) else { throw Self.tooLarge }
        position.fee = fees
        guard let change = position.apply(side, price: match.price, size: match.size, instrument: inst, leverage: leverage, trade: trade, at: now)
        else { throw Self.tooLarge }
        position.fee += fee - closingFee
        if let closedPosition = change.closedPosition { closed.append(closedPosition) }
        positions[key] = position
        return change
    }

    /// Closing orders the placement left larger than their positions (a position that other orders reduced or
    /// turned over) are cancelled, newest first, each releasing what it froze.
    mutating func cancelExcessReductions(closing: (PositionKey, OrderSide) -> [Order], taker: Order) {
        for (key, position) in positions {
            for side in [OrderSide.buy, .sell] {
                var pending: Int64 = taker.state.isOpen && taker.closes(key, side: side) ? taker.size - taker.filled : 0
                var candidates: [Order] = []
                for var order in closing(key, side) where order.closes(key, side: side) && order.id != taker.id {
                    if let updated = makers.last(where: { $0.id == order.id }) { order = updated }
                    guard order.state.isOpen else { continue }
                    pending += order.size - order.filled
                    candidates.append(order)
                }
                let closable = position.closable(by: side)
                for order in candidates.sorted(by: { $0.id > $1.id }) where pending > closable {
                    pending -= order.size - order.filled
                    cancel(order)
                }
            }
        }
    }

    /// Cancels an open order in this placement, releasing what it froze.
    mutating func cancel(_ original: Order) {
        var order = makers.last(where: { $0.id == original.id }) ?? original
        guard order.state.isOpen else { return }
        if order.frozen > 0 {
            entries.append(
                LedgerEntry(account: order.account, kind: .trading, currency: inst.quote, availableDelta: order.frozen, frozenDelta: -order.frozen))
        }
        order.frozen = 0
        order.state = .canceled
        order.updatedAt = now
        cancelled.append(order.id)
        if let at = makers.firstIndex(where: { $0.id == order.id }) { makers[at] = order } else { makers.append(order) }
    }

    /// The margin a maker's `remaining` contracts hold frozen (none for an order that closes a position).
    private static func reservedMargin(_ inst: Instrument, _ price: Int64, _ remaining: Int64, _ terms: SwapTerms, _ side: OrderSide)
        -> Int64?
    {
        terms.closes(side) ? 0 : inst.margin(value: Int128(price) * Int128(remaining), leverage: terms.leverage)
    }

    private static func exact(_ value: Int128) -> Int64? { Int64(exactly: value) }
}

extension SwapTerms {
    /// Whether an order in `side` with these terms closes its position: a reduce-only one-way order, or the closing
    /// side of a leg (a sell of the long leg, a buy of the short one).
    func closes(_ side: OrderSide) -> Bool {
        switch positionSide {
        case .net: reduceOnly
        case .long: side == .sell
        case .short: side == .buy
        }
    }
}

extension Order {
    /// Whether this is an open order closing the position `key` in `side`.
    func closes(_ key: PositionKey, side: OrderSide) -> Bool {
        guard let swap, state.isOpen, self.side == side, account == key.account, instrument == key.instrument else { return false }
        return swap.marginMode == key.marginMode && swap.positionSide == key.side && swap.closes(side)
    }
}

extension MatchingEngine {
    /// The account's open positions as stored (every account's when nil, the insurance fund's among them), each with
    /// the contracts its open closing orders already claim.
    public func openPositions(of account: String?) async throws(OKXError) -> [(position: Position, pending: Int64)] {
        try await load()
        let store = self.store
        let found = try await mapped { @Sendable () async throws(StoreError) in
            if let account { return try await store.openPositions(account: account) }
            return try await store.positions().filter(\.isOpen)
        }
        return found.map { position in
            let side: OrderSide = position.direction > 0 ? .sell : .buy
            let pending = swapOrders(position.key, side: side, closes: true).reduce(Int64(0)) { total, order in
                order.closes(position.key, side: side) ? total + (order.size - order.filled) : total
            }
            return (position, pending)
        }
    }

    /// The account's closed positions, newest first.
    public func positionHistory(of account: String, instrument: String?, page: Page) async throws(OKXError) -> [PositionRecord] {
        let store = self.store
        return try await mapped { @Sendable () async throws(StoreError) in
            try await store.positionHistory(account: account, instrument: instrument, matching: page)
        }
    }
}

extension MatchingEngine {
    /// `trade/close-position`: closes the whole position of `instrument` in `marginMode` (on `positionSide` in
    /// long/short mode) with a market order, with every check an order gets. The position's pending closing orders
    /// are cancelled first when `autoCancel`; otherwise they are refused as claiming the contracts (51000 autoCxl).
    /// 51023 when there is no such position.
    public func closePosition(
        instrument: String, marginMode: String, positionSide: String?, autoCancel: Bool, clientOrderID: String, tag: String, key: APIKey,
        account: Account, origin: AuditOrigin
    ) async throws(OKXError) -> Order {
        try await exclusively { () async throws(OKXError) in
            try await closeHoldingTheEngine(
                instrument: instrument, marginMode: marginMode, positionSide: positionSide, autoCancel: autoCancel,
                clientOrderID: clientOrderID, tag: tag, key: key, account: account, origin: origin)
        }
    }

    private func closeHoldingTheEngine(
        instrument: String, marginMode: String, positionSide: String?, autoCancel: Bool, clientOrderID: String, tag: String, key: APIKey,
        account: Account, origin: AuditOrigin
    ) async throws(OKXError) -> Order {
        try await load()
        guard let inst = instruments[instrument] else { throw OKXError.instrumentDoesNotExist }
        guard inst.type == .swap else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: \(instrument) is not a SWAP instrument")
        }
        let (margin, side) = try SwapOrderRules.check(
            level: account.level, mode: account.positionMode, tradeMode: marginMode, positionSide: positionSide)
        let positionKey = PositionKey(account: account.uid, instrument: inst.id, marginMode: margin, side: side)
        guard let position = positions[positionKey], position.isOpen else { throw OKXError.positionDoesNotExist }
        let closing: OrderSide = position.direction > 0 ? .sell : .buy
        let pending = open.values.filter { $0.closes(positionKey, side: closing) }.sorted { $0.id < $1.id }
        if !pending.isEmpty {
            guard autoCancel else {
                throw OKXError.parameterError("autoCxl").with(
                    message: "Parameter autoCxl error: the position has pending closing orders; cancel them or send autoCxl true")
            }
            for order in pending {
                _ = try await cancelHoldingTheEngine(
                    instrument: inst.id, orderID: String(order.id), clientOrderID: nil, account: account, origin: origin)
            }
        }
        guard let current = positions[positionKey], current.isOpen else { throw OKXError.positionDoesNotExist }
        let request = OrderRequest(
            instrument: inst.id, tradeMode: margin.rawValue, side: closing.rawValue, type: OrderType.market.rawValue,
            size: Amount(units: current.magnitude, scale: inst.lotSize.scale).text, clientOrderID: clientOrderID, tag: tag,
            positionSide: side.rawValue, reduceOnly: side == .net)
        switch await placeHoldingTheEngine(request, key: key, account: account, origin: origin) {
        case .placed(let order): return order
        case .refused(let error, _, _): throw error
        }
    }
}
