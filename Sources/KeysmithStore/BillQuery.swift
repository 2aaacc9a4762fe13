import KeysmithCore

/// Which of an account's trading-account bills a listing returns (`account/bills`, `account/bills-archive`).
public struct BillQuery: Sendable, Hashable {
    public var currency: String?
    public var instrument: String?
    /// `SPOT` selects trade bills only; a type with no bills (no margin or derivatives yet) selects none.
    public var instrumentType: String?
    /// OKX bill type (`1` transfer, `2` trade).
    public var type: String?
    /// OKX bill subtype (`1` buy, `2` sell, `11` transfer in, `12` transfer out).
    public var subType: String?
    /// `cash` (spot), `cross` or `isolated`.
    public var marginMode: String?
    /// Cursors are bill ids; `begin`/`end` bound the time the balance changed.
    public var page: Page

    public init(
        currency: String? = nil, instrument: String? = nil, instrumentType: String? = nil, type: String? = nil,
        subType: String? = nil, page: Page = Page()
    ) {
        self.currency = currency
        self.instrument = instrument
        self.instrumentType = instrumentType
        self.type = type
        self.subType = subType
        self.page = page
    }
}

/// One change of a trading balance, read from its ledger line: what changed, the balance it left, and what caused it.
public struct Bill: Sendable, Hashable {
    /// The ledger line's id (`billId`).
    public var id: Int64
    public var currency: String
    /// OKX `type` (`1` transfer, `2` trade, `8` funding fee) and `subType`; "" where a line recorded before bills were kept does not tell.
    public var type: String
    public var subType: String
    /// The balance change (`balChg`), fee included.
    public var change: Int64
    /// The balance (available + frozen) after it (`bal`).
    public var balance: Int64
    /// The fee charged in it (≥ 0).
    public var fee: Int64
    public var time: Int64
    /// For a trade: the account's order, the fill and its instrument, price and time, and whether the order took.
    public var orderID: Int64?
    public var clientOrderID: String
    public var tag: String
    public var tradeID: Int64?
    public var instrument: String?
    public var price: Int64?
    public var fillTime: Int64?
    public var taker: Bool?
    /// For a transfer: the two balances it went between.
    public var from: BalanceKind?
    public var to: BalanceKind?
    /// For a trade: the order's `tdMode` (`cash` for spot); "" otherwise.
    public var marginMode = ""
    /// For a SWAP fill: the profit or loss this side realised.
    public var pnl: Int64 = 0

    public init(
        id: Int64, currency: String, type: String, subType: String, change: Int64, balance: Int64, fee: Int64, time: Int64,
        orderID: Int64? = nil, clientOrderID: String = "", tag: String = "", tradeID: Int64? = nil, instrument: String? = nil,
        price: Int64? = nil, fillTime: Int64? = nil, taker: Bool? = nil, from: BalanceKind? = nil, to: BalanceKind? = nil
    ) {
        self.id = id
        self.currency = currency
        self.type = type
        self.subType = subType
        self.change = change
        self.balance = balance
        self.fee = fee
        self.time = time
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.tag = tag
        self.tradeID = tradeID
        self.instrument = instrument
        self.price = price
        self.fillTime = fillTime
        self.taker = taker
        self.from = from
        self.to = to
    }
}
