import KeysmithCore

/// Spot orders and fills. A placement — the new order, what it did to the orders it matched, the fills and every
/// balance movement — is written in one transaction with its audit event, so a fill can never move one side's money
/// without the other's.
public protocol OrderStore: Sendable {
    /// `.duplicate` when the account already used the clOrdId; `.insufficientFunds` when a balance is short.
    /// Returns the order, its fills and the positions it moved as stored (ids assigned).
    func place(_ placement: OrderPlacement, audit: AuditRecord) async throws(StoreError)
        -> (order: Order, fills: [Fill], positions: [Position])
    /// Closes an open order (cancelled) and unfreezes what it still held; `.notFound` when it is not open.
    func cancel(_ order: Order, release: LedgerMovement?, at time: Int64, audit: AuditRecord) async throws(StoreError) -> Order
    func order(id: Int64) async throws(StoreError) -> Order?
    func order(clientOrderID: String, account: String) async throws(StoreError) -> Order?
    /// The account's orders that `query` selects, newest first.
    func orders(account: String, matching query: OrderQuery) async throws(StoreError) -> [Order]
    /// Every open order in queue order — oldest first, an order an amendment sent to the back as of then — to
    /// rebuild the books on start.
    func openOrders() async throws(StoreError) -> [Order]
    /// The account's fills (as taker or maker) that `query` selects, newest first.
    func fills(account: String, matching query: FillQuery) async throws(StoreError) -> [Fill]
    func trades(instrument: String, limit: Int) async throws(StoreError) -> [Fill]
    /// Public trades of `instrument` in `page`, newest first; its cursors are trade ids, or fill times when
    /// `byTime` (OKX `history-trades` type 2).
    func trades(instrument: String, matching page: Page, byTime: Bool) async throws(StoreError) -> [Fill]
    /// Quote units of the orders a key placed since `time`, and of what its amendments since then added (its daily
    /// spending).
    func notional(apiKey: String, since time: Int64) async throws(StoreError) -> Int64
    /// The leverage settings the account made (`set-leverage`).
    func leverageSettings(account: String) async throws(StoreError) -> LeverageSettings
    /// Records a leverage setting; `.limitReached` (`openCrossOrders`/`openIsolatedOrders`) while the account has
    /// open orders of the instrument.
    func setLeverage(_ setting: LeverageSetting, account: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
    /// Records a liquidation: the liquidated positions closed and the insurance fund's taking them over, the
    /// liquidated accounts' closing orders cancelled, the movement, and an audit event per liquidated position.
    func liquidate(_ liquidation: Liquidation, audit: AuditRecord) async throws(StoreError) -> [Position]
    /// Every SWAP position that ever opened (those closed are kept at zero), to rebuild the engine on start.
    func positions() async throws(StoreError) -> [Position]
    /// Whether any position is open (anywhere).
    func anyOpenPosition() async throws(StoreError) -> Bool
    /// The account's open positions, oldest first.
    func openPositions(account: String) async throws(StoreError) -> [Position]
    /// The account's closed positions in `page` (cursors are history ids), newest first.
    func positionHistory(account: String, instrument: String?, matching page: Page) async throws(StoreError) -> [PositionRecord]
    /// Records a funding settlement with its movement and what it did to each position (margin taken, funding
    /// received or paid), and the audit event; `.duplicate` when the instrument was already settled at that time.
    func settleFunding(_ settlement: FundingSettlement, movement: LedgerMovement?, positions: [FundingChange], audit: AuditRecord)
        async throws(StoreError)
    /// The instrument's settlements in `page` (cursors are funding times), newest first.
    func fundingSettlements(instrument: String, matching page: Page) async throws(StoreError) -> [FundingSettlement]
    /// Asks the serving process to settle `instrument` now (`keysmith funding settle`); returns the request's id.
    func requestFunding(instrument: String, at time: Int64) async throws(StoreError) -> Int64
    /// Requests no node has claimed yet, oldest first; claiming one (false when another node claimed it first), and
    /// recording how it ended (`failure` nil when it settled).
    func pendingFundingRequests() async throws(StoreError) -> [(id: Int64, instrument: String)]
    func claimFundingRequest(_ id: Int64, at time: Int64) async throws(StoreError) -> Bool
    func finishFundingRequest(_ id: Int64, at time: Int64, failure: String?) async throws(StoreError)
    /// How a request ended: nil while it is pending or being settled (or unknown), else the failure's message, empty
    /// when it settled.
    func fundingRequestOutcome(_ id: Int64) async throws(StoreError) -> String?
    /// The mark prices the operator pinned, as text per instrument.
    func markPins() async throws(StoreError) -> [String: String]
    /// Pins `instrument`'s mark price at `price` (text), or releases it when nil.
    func pinMark(_ instrument: String, price: String?, at time: Int64, audit: AuditRecord) async throws(StoreError)
    /// Records the mark prices of one minute of one perpetual: its open stays as first recorded, its high and low
    /// widen to take the candle's in (a node restarted within the minute, or another node, recorded part of it),
    /// its close is replaced.
    func recordMarkMinute(_ candle: PriceCandle) async throws(StoreError)
    /// The latest minute recorded for `instrument` before `time` and after `floor` (both exclusive); nil when none.
    func latestMarkMinute(instrument: String, before time: Int64, after floor: Int64?) async throws(StoreError) -> Int64?
    /// The mark prices of `instrument` from `start` (inclusive) to `end` (exclusive) as one candle; nil when none
    /// was recorded then.
    func markCandle(instrument: String, from start: Int64, to end: Int64) async throws(StoreError) -> PriceCandle?
}

/// Everything one order placement writes.
public struct OrderPlacement: Sendable {
    /// The new order in its final state after matching (id 0: assigned by the store).
    public var order: Order
    /// The matched resting orders as they are after the fills.
    public var makers: [Order]
    /// The fills (trade ids and taker order id assigned by the store).
    public var fills: [Fill]
    /// Balance movements: fills, the resting part's freeze, and releases of completed makers' leftovers.
    public var movements: [LedgerMovement]
    /// Quote units the order counts towards its key's daily limit.
    public var notional: Int64
    /// SWAP placements: the positions the fills moved, as they are after them (`lastTrade` names a fill by its
    /// index in the placement), and those the fills closed entirely.
    public var positions: [Position] = []
    public var closedPositions: [ClosedPosition] = []
    /// Set when the placement amends the open order ``order`` names (its id is not 0).
    public var amendment: Amendment?

    public init(order: Order, makers: [Order], fills: [Fill], movements: [LedgerMovement], notional: Int64) {
        self.order = order
        self.makers = makers
        self.fills = fills
        self.movements = movements
        self.notional = notional
    }
}


/// What an amendment records beyond the order itself: what it added to the amending key's daily spending, and
/// whether it sent the order to the back of its price level's queue (kept there when the books are rebuilt).
public struct Amendment: Sendable, Hashable {
    public var apiKey: String
    public var increase: Int64
    public var requeued: Bool

    public init(apiKey: String, increase: Int64, requeued: Bool) {
        self.apiKey = apiKey
        self.increase = increase
        self.requeued = requeued
    }
}

/// A closed position as `positions-history` reads it back.
public struct PositionRecord: Sendable, Hashable {
    public var id: Int64
    public var closed: ClosedPosition
    /// OKX's close `type`: 2 closed entirely (3, 4 liquidation when it exists).
    public var type: Int

    public init(id: Int64, closed: ClosedPosition, type: Int) {
        self.id = id
        self.closed = closed
        self.type = type
    }
}

/// What a funding settlement did to one position: margin it took (funding the account's available balance could
/// not pay) and the funding received (positive) or paid (negative).
public struct FundingChange: Sendable, Hashable {
    public var position: Int64
    public var marginTaken: Int64
    public var funding: Int64

    public init(position: Int64, marginTaken: Int64, funding: Int64) {
        self.position = position
        self.marginTaken = marginTaken
        self.funding = funding
    }
}

/// What one liquidation pass over an instrument writes.
public struct Liquidation: Sendable {
    public var instrument: String
    /// Positions as they are after it (the liquidated ones at zero, the insurance fund's), naming trade ids.
    public var positions: [Position]
    /// The liquidated positions as they closed, and an audit record's details for each.
    public var closed: [ClosedPosition]
    public var details: [[String: String]]
    public var movement: LedgerMovement?
    /// Closing orders of the liquidated positions, cancelled (their releases are in the movement).
    public var cancelled: [Order]
    /// The insurance fund's positions the takeovers closed entirely (netted against contracts it already held).
    public var fundClosed: [ClosedPosition] = []

    public init(
        instrument: String, positions: [Position], closed: [ClosedPosition], details: [[String: String]], movement: LedgerMovement?,
        cancelled: [Order]
    ) {
        self.instrument = instrument
        self.positions = positions
        self.closed = closed
        self.details = details
        self.movement = movement
        self.cancelled = cancelled
    }

    /// One event per liquidated position, from `template` (its account and details).
    func audits(_ template: AuditRecord) -> [AuditRecord] {
        zip(closed, details).map { record, details in
            var event = template
            event.account = record.position.key.account
            event.details = details
            return event
        }
    }
}
