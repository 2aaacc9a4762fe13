import KeysmithCore
import KeysmithStore

/// Spot trading: one price-time-priority ``OrderBook`` per instrument, kept in memory and rebuilt from the store on
/// first use. Placements are serialised by this actor; each is planned on the book without changing it, written to
/// the store in one transaction (order, fills, both sides' balances, audit event) and only then applied to the
/// book — a refused write (say, a balance too short, which the database's constraints catch) leaves everything as
/// it was. Each fill charges both sides the fee schedule's rate (``FeeService``: the maker rate to the resting order,
/// the taker rate to the incoming one) on what each receives, paid to the ``LedgerEntry/fees`` account in the same
/// movement. The server process owns the books: orders are placed over the API only.
///
/// ```swift
/// let outcome = await engine.place(OrderRequest(instrument: "BTC-USDT", side: "buy", type: "limit", size: "0.01",
///                                               price: "30000"), key: key, account: account, origin: origin)
/// ```
public actor MatchingEngine {
    let store: any OrderStore
    let ledger: LedgerService
    let fees: FeeService
    let clock: any WallClock
    var books: [String: OrderBook] = [:]
    /// The open orders, by id. Changed through ``setOpen(_:_:)`` only, which keeps ``swapOrders`` in step.
    private(set) var open: [Int64: Order] = [:]
    /// The open SWAP orders by the position they open or close and their side: what a placement checks against
    /// one position without looking at every order on the book.
    private var swapOrders: [SwapOrderKey: Set<Int64>] = [:]
    /// Every position that ever opened, by account, instrument, margin mode and side (kept at zero once closed).
    var positions: [PositionKey: Position] = [:]
    var instruments: [String: Instrument] = [:]
    private var loaded = false
    var isLoaded: Bool { loaded }
    /// While the first load runs: who waits for it.
    private var loadWaiters: [CheckedContinuation<Void, Never>]?
    /// Whether a change holds the engine (``exclusively(_:)``), and who waits for it.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Where SWAP orders find the mark price their price limits are measured from.
    let markSource: MarkSource
    /// Where each committed change is announced, before the next one starts (the WebSocket pushes).
    public nonisolated let events: TradingEvents

    public init(
        store: any OrderStore, ledger: LedgerService, fees: FeeService, clock: any WallClock, marks: MarkSource = MarkSource(),
        events: TradingEvents = TradingEvents()
    ) {
        self.events = events
        self.markSource = marks
        self.store = store
        self.ledger = ledger
        self.fees = fees
        self.clock = clock
    }

    // MARK: - Placing and cancelling

    public func place(_ request: OrderRequest, key: APIKey, account: Account, origin: AuditOrigin) async -> OrderOutcome {
        await acquire()
        defer { release() }
        return await placeHoldingTheEngine(request, key: key, account: account, origin: origin)
    }

    /// ``place(_:key:account:origin:)`` for a caller that already has the engine to itself.
    func placeHoldingTheEngine(_ request: OrderRequest, key: APIKey, account: Account, origin: AuditOrigin) async -> OrderOutcome {
        do {
            try await load()
            return .placed(try await placeValidated(request, key: key, account: account, origin: origin))
        } catch {
            return .refused(error, clientOrderID: request.clientOrderID, tag: request.tag)
        }
    }

    /// Cancels an open order of the account by id or clOrdId (51400 when it is not open or not found).
    public func cancel(instrument: String, orderID: String?, clientOrderID: String?, account: Account, origin: AuditOrigin)
        async throws(OKXError) -> Order
    {
        try await exclusively { () async throws(OKXError) in
            try await cancelHoldingTheEngine(
                instrument: instrument, orderID: orderID, clientOrderID: clientOrderID, account: account, origin: origin)
        }
    }

    /// ``cancel(instrument:orderID:clientOrderID:account:origin:)`` for a caller that has the engine to itself.
    func cancelHoldingTheEngine(
        instrument: String, orderID: String?, clientOrderID: String?, account: Account, origin: AuditOrigin,
        details: [String: String] = [:]
    ) async throws(OKXError) -> Order {
        try await load()
        guard let found = try await find(orderID: orderID, clientOrderID: clientOrderID, account: account),
            found.instrument == instrument, found.state.isOpen, let inst = instruments[found.instrument]
        else { throw OKXError.cancelFailed }
        let release =
            found.frozen > 0
            ? LedgerMovement.freeze(
                -found.frozen, of: found.swap != nil || found.side == .buy ? inst.quote : inst.base, in: found.account, kind: .trading)
            : nil
        let now = clock.milliseconds
        let audit = origin.record(
            at: now, account: account.uid, target: String(found.id), details: details.merging(["instId": found.instrument]) { _, own in own })
        let canceled: Order
        do {
            canceled = try await store.cancel(found, release: release, at: now, audit: audit)
        } catch {
            throw error.okxError
        }
        if let price = found.price { books[found.instrument]?.remove(id: found.id, side: found.side, price: price) }
        setOpen(found.id, nil)
        publish(instrument: found.instrument, orders: [canceled], fills: [], positions: [], movements: release.map { [$0] } ?? [])
        return canceled
    }

    /// An order of the account by id or clOrdId.
    public func find(orderID: String?, clientOrderID: String?, account: Account) async throws(OKXError) -> Order? {
        let order: Order?
        if let orderID {
            guard let id = Int64(orderID) else { return nil }
            let store = self.store
            order = try await mapped { @Sendable () async throws(StoreError) in try await store.order(id: id) }
        } else if let clientOrderID {
            let uid = account.uid, store = self.store
            order = try await mapped { @Sendable () async throws(StoreError) in
                try await store.order(clientOrderID: clientOrderID, account: uid)
            }
        } else {
            throw OKXError.eitherParameterRequired("ordId", "clOrdId")
        }
        return order?.account == account.uid ? order : nil
    }

    // MARK: - One change at a time

    /// Runs `body` with the engine to itself: a placement, cancel or settlement plans on the books, open orders and
    /// positions and writes to the store across suspension points, so the next one waits until it has applied
    /// what it committed (first come, first served).
    func exclusively<T>(_ body: () async throws(OKXError) -> T) async throws(OKXError) -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    // MARK: - Market data

    public func instrument(_ id: String) async throws(OKXError) -> Instrument {
        try await load()
        guard let instrument = instruments[id] else { throw OKXError.instrumentDoesNotExist }
        return instrument
    }

    public func allInstruments() async throws(OKXError) -> [Instrument] {
        try await load()
        return instruments.values.sorted { $0.id < $1.id }
    }

    /// The last traded price in USDT of every currency with a USDT instrument that has traded (USDT itself is 1).
    public func usdtPrices() async throws(OKXError) -> [String: Amount] {
        try await load()
        var prices = ["USDT": Amount(units: 1, scale: 0)]
        let store = self.store
        for instrument in instruments.values where instrument.quote == "USDT" && instrument.type == .spot {
            let id = instrument.id
            let last = try await mapped { @Sendable () async throws(StoreError) in try await store.trades(instrument: id, limit: 1) }
            if let fill = last.first { prices[instrument.base] = Amount(units: fill.price, scale: instrument.tickSize.scale) }
        }
        return prices
    }

    /// Aggregated levels of a book, best first.
    public func depth(_ id: String, levels: Int) async throws(OKXError) -> (bids: [(Int64, Int128, Int)], asks: [(Int64, Int128, Int)]) {
        try await load()
        let book = books[id] ?? OrderBook()
        return (
            book.depth(.buy, levels: levels).map { ($0.price, $0.size, $0.orders) },
            book.depth(.sell, levels: levels).map { ($0.price, $0.size, $0.orders) }
        )
    }

    // MARK: - Matching

    /// Places `request`, or, with `original`, amends that open order to it: the amendment keeps the order's id, what
    /// it filled and its fees, releases what it froze and freezes what the new size and price hold, and matches
    /// what the new price crosses (``amend(_:key:account:origin:)``).
    func placeValidated(_ request: OrderRequest, key: APIKey, account: Account, origin: AuditOrigin, replacing original: Order? = nil,
        auditDetails: [String: String] = [:]
    ) async throws(OKXError) -> Order {
        guard let inst = instruments[request.instrument] else { throw OKXError.instrumentDoesNotExist }
        guard key.trading.permits(type: inst.type) else {
            throw OKXError.keyLacksPermission.with(message: "This API key may not trade \(inst.type.rawValue) instruments")
        }
        if inst.type == .swap {
            guard key.trading.permits(instrument: inst.id) else {
                throw OKXError.keyLacksPermission.with(message: "This API key may not trade \(inst.id)")
            }
            return try await placeSwap(
                request, inst: inst, key: key, account: account, origin: origin, replacing: original, auditDetails: auditDetails)
        }
        guard inst.sizesFitBaseCurrency else {
            throw OKXError.parameterError("instId").with(
                message: "Parameter instId error: \(inst.id)'s lot size has more decimals than \(inst.base) counts, so it cannot trade")
        }
        guard request.tradeMode == "cash" else {
            throw OKXError.parameterError("tdMode").with(message: "Parameter tdMode error: spot trading uses cash")
        }
        guard let side = OrderSide(rawValue: request.side) else { throw OKXError.parameterError("side") }
        guard let type = OrderType(rawValue: request.type) else { throw OKXError.parameterError("ordType") }
        guard key.trading.permits(instrument: inst.id) else {
            throw OKXError.keyLacksPermission.with(message: "This API key may not trade \(inst.id)")
        }
        // A market order's size is in the quote currency when `tgtCcy` is quote_ccy (a buy's default) and in the base
        // currency when it is base_ccy (a sell's default); other orders are sized in the base currency.
        if let target = request.targetCurrency, !["base_ccy", "quote_ccy"].contains(target) {
            throw OKXError.parameterError("tgtCcy").with(message: "Parameter tgtCcy error: base_ccy or quote_ccy")
        }
        let quoteSized = type == .market && (request.targetCurrency ?? (side == .buy ? "quote_ccy" : "base_ccy")) == "quote_ccy"
        let size = try Self.size(request.size, inst: inst, quoteSized: quoteSized)
        let price = type == .market ? nil : try Self.limitPrice(request.price, inst: inst)
        let book = bookForPlacing(inst.id, replacing: original, price: price, size: size)
        let unfilled = size - (original?.filled ?? 0)
        var matches: [Match]
        if quoteSized {
            // Buys spend up to the quote amount; sells sell until they would receive more than it.
            matches = book.plan(side: side, limit: nil, size: .max / 4, budget: Self.budget(quoteUnits: size, inst: inst))
        } else {
            matches = book.plan(side: side, limit: price, size: unfilled)
        }
        let matchedSize = matches.reduce(Int64(0)) { $0 + $1.size }
        if original != nil, type == .postOnly, !matches.isEmpty { throw OKXError.amendPostOnlyWouldTake }
        // A post_only order that would take, or a fok order the book cannot fill, is cancelled untouched.
        let cancelledAtOnce = type == .postOnly && !matches.isEmpty || type == .fok && matchedSize < size
        if cancelledAtOnce { matches = [] }
        let now = clock.milliseconds
        let notional = try Self.orderNotional(type: type, price: price, size: size, quoteSized: quoteSized, matches: matches, inst: inst)
        try await checkSpending(key: key, inst: inst, notional: notional, now: now, dailyIncrease: Self.increase(notional, over: original, inst))

        var order = Order(
            clientOrderID: request.clientOrderID, tag: request.tag, account: account.uid, apiKey: key.apiKey, instrument: inst.id,
            side: side, type: type, price: price, size: size, targetCurrency: quoteSized ? "quote_ccy" : "base_ccy", createdAt: now,
            updatedAt: now)
        var entries: [LedgerEntry] = []
        if let original {
            order = Self.amended(original, price: price, size: size, at: now)
            entries += Self.release(original, currency: side == .buy ? inst.quote : inst.base)
        }
        var makers: [Order] = []
        var fills: [Fill] = []
        let schedule = fees.current
        let takerRate = schedule.rates(account: account.uid, instrumentType: "SPOT").taker
        for match in matches {
            guard var maker = open[match.maker.id] else { throw OKXError.systemError }
            let makerRate = schedule.rates(account: maker.account, instrumentType: "SPOT").maker
            guard let paid = inst.notional(price: match.price, size: match.size), let baseSize = inst.baseUnits(match.size),
                let makerFilled = Self.sum(maker.filled, match.size), let makerNotional = Self.sum(maker.filledNotional, paid),
                let takerFilled = Self.sum(order.filled, match.size), let takerNotional = Self.sum(order.filledNotional, paid)
            else { throw Self.tooLarge }
            // The exact value only serves the average price: where it outgrows 64 bits the order keeps trading and
            // its average comes from the quote amounts instead.
            let value = inst.value(price: match.price, size: match.size)
            let makerValue = Order.accumulated(maker.filledValue, value), takerValue = Order.accumulated(order.filledValue, value)
            // Each side pays its rate on what it receives: the buyer in the base currency, the seller in the quote.
            let takerFee = FeeRates.charge(side == .buy ? baseSize : paid, at: takerRate)
            let makerFee = FeeRates.charge(side == .buy ? paid : baseSize, at: makerRate)
            guard let takerFees = Self.sum(order.fee, takerFee), let makerFees = Self.sum(maker.fee, makerFee) else { throw Self.tooLarge }
            entries += Self.entries(
                taker: (account.uid, takerFee), maker: (maker.account, maker.id, makerFee), fill: Int64(fills.count), side: side,
                base: baseSize, paid: paid, inst: inst)
            maker.filled = makerFilled
            maker.filledNotional = makerNotional
            maker.filledValue = makerValue
            maker.fee = makerFees
            maker.frozen -= side == .buy ? baseSize : paid
            maker.updatedAt = now
            maker.state = maker.filled == maker.size ? .filled : .partiallyFilled
            if maker.state == .filled && maker.frozen > 0 {
                // What a resting buy froze at its price beyond what its fills paid returns to the maker.
                entries.append(
                    LedgerEntry(
                        account: maker.account, kind: .trading, currency: maker.side == .buy ? inst.quote : inst.base,
                        availableDelta: maker.frozen, frozenDelta: -maker.frozen))
                maker.frozen = 0
            }
            makers.append(maker)
            order.filled = takerFilled
            order.filledNotional = takerNotional
            order.filledValue = takerValue
            order.fee = takerFees
            var fill = Fill(
                instrument: inst.id, takerOrder: 0, makerOrder: maker.id, takerAccount: account.uid, makerAccount: maker.account,
                side: side, price: match.price, size: match.size, notional: paid, time: now)
            fill.takerFee = takerFee
            fill.makerFee = makerFee
            fill.takerFeeRate = takerRate
            fill.makerFeeRate = makerRate
            fills.append(fill)
        }
        let rests = !cancelledAtOnce && (type == .limit || type == .postOnly) && order.filled < size
        if rests, let price {
            let remaining = size - order.filled
            let hold = side == .buy ? inst.notionalRoundedUp(price: price, size: remaining) : inst.baseUnits(remaining)
            guard let hold else { throw OKXError.parameterError("sz") }
            entries.append(
                LedgerEntry(
                    account: account.uid, kind: .trading, currency: side == .buy ? inst.quote : inst.base, availableDelta: -hold,
                    frozenDelta: hold))
            order.frozen = hold
            order.state = order.filled > 0 ? .partiallyFilled : .live
        } else if quoteSized {
            order.state = matches.isEmpty ? .canceled : .filled
        } else {
            order.state = order.filled == size ? .filled : .canceled
        }
        var placement = OrderPlacement(
            order: order, makers: makers, fills: fills, movements: entries.isEmpty ? [] : [LedgerMovement(entries: entries)],
            notional: notional)
        placement.amendment = Self.amendment(of: original, to: price, size: size, increase: Self.increase(notional, over: original, inst), by: key)
        let audit = origin.record(
            at: now, account: account.uid, target: "",
            details: ["instId": inst.id, "side": side.rawValue, "ordType": type.rawValue, "sz": request.size, "px": request.price ?? ""]
                .merging(auditDetails) { _, amendment in amendment })
        let stored: Order, storedFills: [Fill]
        do {
            (stored, storedFills, _) = try await store.place(placement, audit: audit)
        } catch where error.kind == .insufficientFunds {
            let currency = side == .buy ? inst.quote : inst.base
            throw original == nil ? OKXError.insufficientOrderBalance(currency) : OKXError.amendInsufficientBalance(currency)
        } catch where error.kind == .outOfRange {
            throw Self.tooLarge
        } catch {
            throw error.okxError
        }
        settle(stored, price: price, matches: matches, makers: makers, on: book)
        publish(instrument: inst.id, orders: [stored] + makers, fills: storedFills, positions: [], movements: placement.movements)
        return stored
    }

    /// Announces a committed change (``TradingEvent``): the accounts whose balances its movements changed.
    func publish(
        instrument: String?, orders: [Order], fills: [Fill], positions: [Position], movements: [LedgerMovement], cause: String? = nil
    ) {
        var event = TradingEvent(instrument: instrument)
        event.cause = cause
        event.orders = orders
        event.fills = fills
        event.positions = positions
        event.accounts = Set(movements.flatMap { $0.entries.map(\.account) })
        event.bookChanged = instrument != nil
        events.publish(event)
    }

    /// Applies a committed placement to the book: the matched makers as they are now, and the order if it rests.
    func settle(_ stored: Order, price: Int64?, matches: [Match], makers: [Order], on book: OrderBook) {
        var updated = book
        updated.apply(matches)
        for maker in makers {
            if !maker.state.isOpen, let price = maker.price {
                // Filled (already gone), or cancelled by the placement (a closing order left with nothing to close).
                updated.remove(id: maker.id, side: maker.side, price: price)
            }
            setOpen(maker.id, maker.state.isOpen ? maker : nil)
        }
        if stored.state.isOpen, let price {
            // An amendment that kept its place in the queue (``bookForPlacing(_:replacing:price:size:)``) is resized there.
            let remaining = stored.size - stored.filled
            if !updated.resize(id: stored.id, side: stored.side, price: price, remaining: remaining) {
                updated.add(RestingOrder(id: stored.id, account: stored.account, side: stored.side, price: price, remaining: remaining))
            }
            setOpen(stored.id, stored)
        } else if open[stored.id] != nil {
            // An amended order its new price filled.
            setOpen(stored.id, nil)
        }
        books[stored.instrument] = updated
    }

    /// A limit price in price units: positive and a multiple of the tick (51000 otherwise).
    static func limitPrice(_ text: String?, inst: Instrument) throws(OKXError) -> Int64 {
        guard let text, let parsed = Amount(parsing: text, scale: inst.tickSize.scale), parsed.isPositive,
            parsed.isMultiple(of: inst.tickSize)
        else { throw OKXError.parameterError("px").with(message: "Parameter px error: a multiple of \(inst.tickSize.text)") }
        return parsed.units
    }

    /// The balance lines of one fill: the taker pays one currency and receives the other; the maker's side comes out
    /// of what its resting order froze. What each receives is net of its fee, which goes to the fees account. Each
    /// side's lines name its order (0: the taker's, not stored yet) and the fill (by its index in the placement).
    private static func entries(
        taker: (account: String, fee: Int64), maker: (account: String, order: Int64, fee: Int64), fill: Int64, side: OrderSide,
        base: Int64, paid: Int64, inst: Instrument
    ) -> [LedgerEntry] {
        let takerLine = { (fee: Int64) in TradeLine(order: 0, trade: fill, fee: fee) }
        let makerLine = { (fee: Int64) in TradeLine(order: maker.order, trade: fill, fee: fee) }
        let (takerGets, makerGets) = side == .buy ? (inst.base, inst.quote) : (inst.quote, inst.base)
        var lines: [LedgerEntry]
        if side == .buy {
            lines = [
                LedgerEntry(account: taker.account, kind: .trading, currency: inst.quote, availableDelta: -paid, trade: takerLine(0)),
                LedgerEntry(account: taker.account, kind: .trading, currency: inst.base, availableDelta: base - taker.fee, trade: takerLine(taker.fee)),
                LedgerEntry(account: maker.account, kind: .trading, currency: inst.base, frozenDelta: -base, trade: makerLine(0)),
                LedgerEntry(account: maker.account, kind: .trading, currency: inst.quote, availableDelta: paid - maker.fee, trade: makerLine(maker.fee)),
            ]
        } else {
            lines = [
                LedgerEntry(account: taker.account, kind: .trading, currency: inst.base, availableDelta: -base, trade: takerLine(0)),
                LedgerEntry(account: taker.account, kind: .trading, currency: inst.quote, availableDelta: paid - taker.fee, trade: takerLine(taker.fee)),
                LedgerEntry(account: maker.account, kind: .trading, currency: inst.quote, frozenDelta: -paid, trade: makerLine(0)),
                LedgerEntry(account: maker.account, kind: .trading, currency: inst.base, availableDelta: base - maker.fee, trade: makerLine(maker.fee)),
            ]
        }
        if taker.fee > 0 {
            lines.append(LedgerEntry(account: LedgerEntry.fees, kind: .trading, currency: takerGets, availableDelta: taker.fee))
        }
        if maker.fee > 0 {
            lines.append(LedgerEntry(account: LedgerEntry.fees, kind: .trading, currency: makerGets, availableDelta: maker.fee))
        }
        return lines
    }

    /// A size in lot units (or quote units for a market buy sized in quote), within the instrument's rules.
    static func size(_ text: String, inst: Instrument, quoteSized: Bool) throws(OKXError) -> Int64 {
        let scale = quoteSized ? inst.quoteScale : inst.lotSize.scale
        guard let amount = Amount(parsing: text, scale: scale), amount.isPositive else {
            throw OKXError.parameterError("sz").with(message: "Parameter sz error: a positive number with at most \(scale) decimals")
        }
        if quoteSized { return amount.units }
        guard amount.isMultiple(of: inst.lotSize) else { throw OKXError.notMultipleOfLotSize }
        guard amount >= inst.minimumSize else { throw OKXError.belowMinimumOrderSize }
        let maximum = inst.maximumLimitSize
        guard amount <= maximum else { throw OKXError.parameterError("sz").with(message: "Parameter sz error: at most \(maximum.text)") }
        return amount.units
    }

    /// A quote budget in price × size units; one beyond 64 bits buys whatever the book holds, so it is capped there.
    private static func budget(quoteUnits: Int64, inst: Instrument) -> Int64 {
        var value = Int128(quoteUnits)
        let shift = inst.tickSize.scale + inst.lotSize.scale - inst.quoteScale
        for _ in 0..<max(0, shift) {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return .max }
            value = shifted
        }
        for _ in 0..<max(0, -shift) { value /= 10 }
        return Int64(clamping: value)
    }

    /// What an order counts in quote units towards its key's spending limits: the value of its size at its price,
    /// or of its matches for a market order. 51000 when that does not fit 64 bits, so no order counts as less than
    /// it is worth.
    private static func orderNotional(
        type: OrderType, price: Int64?, size: Int64, quoteSized: Bool, matches: [Match], inst: Instrument
    ) throws(OKXError) -> Int64 {
        if quoteSized { return size }
        if let price {
            guard let value = inst.notional(price: price, size: size) else { throw tooLarge }
            return value
        }
        var total: Int64 = 0
        for match in matches {
            guard let value = inst.notional(price: match.price, size: match.size), let next = sum(total, value) else { throw tooLarge }
            total = next
        }
        return total
    }

    /// 51000 for an order whose size, value or resulting balance does not fit 64 bits.
    static let tooLarge = OKXError.parameterError("sz").with(message: "Parameter sz error: the order's size or value is too large")

    static func sum(_ a: Int64, _ b: Int64) -> Int64? {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : value
    }

    /// A decimal USDT limit in quote units: extra decimals are cut off (a stricter limit, never a missing one) and a
    /// limit beyond 64 bits is one no order can reach.
    private static func limitUnits(_ text: String, scale: Int) -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first ?? "", fraction = parts.count > 1 ? parts[1].prefix(scale) : ""
        return Amount(parsing: fraction.isEmpty ? String(whole) : "\(whole).\(fraction)", scale: scale)?.units ?? .max
    }

    /// The key's per-order and per-day USDT limits (USDT-quoted instruments). The day's limit counts `dailyIncrease`
    /// of the order when given (an amendment: what it adds to the order's value), else all of it.
    func checkSpending(key: APIKey, inst: Instrument, notional: Int64, now: Int64, dailyIncrease: Int64? = nil) async throws(OKXError) {
        guard inst.quote == "USDT", key.trading.maxOrderUSDT != nil || key.trading.maxDailyUSDT != nil else { return }
        let value = Amount(units: notional, scale: inst.quoteScale)
        if let text = key.trading.maxOrderUSDT {
            let limit = Amount(units: Self.limitUnits(text, scale: inst.quoteScale), scale: inst.quoteScale)
            if value > limit {
                throw OKXError.parameterError("sz").with(
                    message: "Parameter sz error: the order is worth \(value.text) USDT, above this API key's limit of \(text) USDT")
            }
        }
        if let text = key.trading.maxDailyUSDT {
            let limit = Self.limitUnits(text, scale: inst.quoteScale)
            let apiKey = key.apiKey, store = self.store
            let spent = try await mapped { @Sendable () async throws(StoreError) in
                try await store.notional(apiKey: apiKey, since: now - now % 86_400_000)
            }
            // The day's total and this order together, without wrapping: a sum beyond 64 bits is above any limit.
            let (total, overflow) = spent.addingReportingOverflow(dailyIncrease ?? notional)
            if overflow || total > limit {
                throw OKXError.parameterError("sz").with(
                    message: "Parameter sz error: this API key's daily limit of \(text) USDT would be exceeded")
            }
        }
    }

    /// Sells that rested before sizes were converted to the base currency's units (an instrument whose lot has
    /// fewer decimals than its base currency, such as ETH-USDT) froze their remaining size in lot units: they could
    /// not fill, so they are cancelled, each releasing what it froze, with an audit event. Returns the others.
    private func cancelStaleSells(_ orders: [Order]) async throws(OKXError) -> [Order] {
        var kept: [Order] = []
        for order in orders {
            guard order.side == .sell, order.swap == nil, let inst = instruments[order.instrument], order.price != nil,
                inst.baseUnits(order.size - order.filled) != order.frozen
            else {
                kept.append(order)
                continue
            }
            let now = clock.milliseconds
            let release = LedgerMovement.freeze(-order.frozen, of: inst.base, in: order.account, kind: .trading)
            let audit = AuditOrigin.system("order.cancel.stale").record(
                at: now, account: order.account, target: String(order.id), details: ["instId": order.instrument])
            let store = self.store
            _ = try await mapped { @Sendable () async throws(StoreError) in
                try await store.cancel(order, release: order.frozen > 0 ? release : nil, at: now, audit: audit)
            }
        }
        return kept
    }

    /// Instruments and open orders, once.
    func load() async throws(OKXError) {
        guard !loaded else { return }
        if loadWaiters != nil {
            // Another call is loading: wait for it (and load again if it failed).
            await withCheckedContinuation { loadWaiters?.append($0) }
            return try await load()
        }
        loadWaiters = []
        defer {
            let waiters = loadWaiters ?? []
            loadWaiters = nil
            for waiter in waiters { waiter.resume() }
        }
        let scales = (try await ledger.currencies()).scales
        for instrument in try await ledger.instruments() {
            instruments[instrument.id] = instrument.withCurrencyScales(
                base: scales[instrument.base] ?? instrument.lotSize.scale, quote: scales[instrument.quote] ?? 6)
        }
        try await fees.refresh()
        let store = self.store
        var orders = try await mapped { @Sendable () async throws(StoreError) in try await store.openOrders() }
        orders = try await cancelStaleSells(orders)
        for position in try await mapped({ @Sendable () async throws(StoreError) in try await store.positions() }) {
            positions[position.key] = position
        }
        for order in orders {
            guard let price = order.price else { continue }
            books[order.instrument, default: OrderBook()].add(
                RestingOrder(id: order.id, account: order.account, side: order.side, price: price, remaining: order.size - order.filled))
            setOpen(order.id, order)
        }
        loaded = true
    }
}

/// Which of a position's open SWAP orders: those in `side` that close it, or those that open it.
struct SwapOrderKey: Hashable {
    let position: PositionKey
    let side: OrderSide
    let closes: Bool

    init?(_ order: Order) {
        guard let swap = order.swap else { return nil }
        position = PositionKey(account: order.account, instrument: order.instrument, marginMode: swap.marginMode, side: swap.positionSide)
        side = order.side
        closes = swap.closes(order.side)
    }

    init(position: PositionKey, side: OrderSide, closes: Bool) {
        self.position = position
        self.side = side
        self.closes = closes
    }
}

extension MatchingEngine {
    /// Records `order` as the open order `id` (nil: no longer open), keeping the SWAP index in step.
    func setOpen(_ id: Int64, _ order: Order?) {
        if let old = open[id], let key = SwapOrderKey(old) {
            swapOrders[key]?.remove(id)
            if swapOrders[key]?.isEmpty == true { swapOrders[key] = nil }
        }
        open[id] = order
        if let order, order.state.isOpen, let key = SwapOrderKey(order) { swapOrders[key, default: []].insert(id) }
    }

    /// The open SWAP orders in `side` that close (or, `closes` false, open) `position`.
    func swapOrders(_ position: PositionKey, side: OrderSide, closes: Bool) -> [Order] {
        (swapOrders[SwapOrderKey(position: position, side: side, closes: closes)] ?? []).compactMap { open[$0] }
    }
}
