import KeysmithCore

/// A place-order object as sent (`trade/order`, or one element of `batch-orders`).
public struct OrderRequest: Sendable, Hashable {
    public var instrument: String
    public var tradeMode: String
    public var side: String
    public var type: String
    public var size: String
    public var price: String?
    public var clientOrderID: String
    public var tag: String
    public var targetCurrency: String?
    /// SWAP orders: `posSide` as sent (nil when absent or empty).
    public var positionSide: String?
    /// SWAP orders in one-way mode: only reduce the position.
    public var reduceOnly: Bool

    public init(
        instrument: String, tradeMode: String = "cash", side: String, type: String, size: String, price: String? = nil,
        clientOrderID: String = "", tag: String = "", targetCurrency: String? = nil, positionSide: String? = nil,
        reduceOnly: Bool = false
    ) {
        self.positionSide = positionSide
        self.reduceOnly = reduceOnly
        self.instrument = instrument
        self.tradeMode = tradeMode
        self.side = side
        self.type = type
        self.size = size
        self.price = price
        self.clientOrderID = clientOrderID
        self.tag = tag
        self.targetCurrency = targetCurrency
    }
}

/// The outcome of one order of a placement: the order, or the OKX error that refused it (its `sCode`).
public enum OrderOutcome: Sendable {
    case placed(Order)
    case refused(OKXError, clientOrderID: String, tag: String)
}

/// An amend-order object as sent (`trade/amend-order`, or one element of `amend-batch-orders`): the open order by
/// `ordId` or `clOrdId`, its new total size (what it filled included) and/or its new price.
public struct AmendRequest: Sendable, Hashable {
    public var instrument: String
    public var orderID: String?
    public var clientOrderID: String?
    public var newSize: String?
    public var newPrice: String?
    /// Cancel the order when the amendment fails (`cxlOnFail`).
    public var cancelOnFail: Bool
    /// The caller's id of this amendment (`reqId`), echoed in the answer.
    public var requestID: String

    public init(
        instrument: String, orderID: String? = nil, clientOrderID: String? = nil, newSize: String? = nil, newPrice: String? = nil,
        cancelOnFail: Bool = false, requestID: String = ""
    ) {
        self.instrument = instrument
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.newSize = newSize
        self.newPrice = newPrice
        self.cancelOnFail = cancelOnFail
        self.requestID = requestID
    }
}

/// The outcome of one amendment: the order as amended, or the error that refused it with the order it named when
/// one was found (and whether `cxlOnFail` then cancelled it).
public enum AmendOutcome: Sendable {
    case amended(Order)
    case refused(OKXError, order: Order?, canceled: Bool)
}
