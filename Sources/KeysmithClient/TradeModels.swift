import Foundation

// Codable models of the OKX v5 responses and requests the client speaks. Field names are OKX's; numbers are
// `Decimal?`, times `Date?` (nil where OKX sends ""), comma lists `[String]`.

/// `POST /api/v5/trade/order` body (spot, cash).
public struct OrderRequest: Codable, Sendable, Hashable {
    public var instId: String
    public var tdMode = "cash"
    /// "buy" or "sell".
    public var side: String
    /// "limit", "market", "post_only", "fok" or "ioc".
    public var ordType: String
    public var sz: String
    public var px: String?
    public var clOrdId: String?
    /// For market orders: "base_ccy" or "quote_ccy" (what `sz` counts).
    public var tgtCcy: String?

    public init(
        instId: String, side: String, ordType: String, size: Decimal, price: Decimal? = nil, clientOrderId: String? = nil,
        targetCurrency: String? = nil
    ) {
        self.instId = instId
        self.side = side
        self.ordType = ordType
        self.sz = "\(size)"
        self.px = price.map { "\($0)" }
        self.clOrdId = clientOrderId
        self.tgtCcy = targetCurrency
    }
}

/// The item of an order placement or cancellation: `sCode` "0" on success.
public struct OrderAck: Codable, Sendable, Hashable {
    @OKXText public var ordId: String
    @OKXText public var clOrdId: String
    @OKXText public var sCode: String
    @OKXText public var sMsg: String
    @OKXMilliseconds public var ts: Date?
}

/// `POST /api/v5/trade/amend-order` body: the order by `ordId` or `clOrdId`, its new total size and/or price.
public struct AmendOrderRequest: Codable, Sendable, Hashable {
    public var instId: String
    public var ordId: String?
    public var clOrdId: String?
    public var newSz: String?
    public var newPx: String?
    /// Cancel the order when the amendment fails.
    public var cxlOnFail: Bool?
    public var reqId: String?

    public init(
        instId: String, orderId: String? = nil, clientOrderId: String? = nil, newSize: Decimal? = nil, newPrice: Decimal? = nil,
        cancelOnFail: Bool? = nil, requestId: String? = nil
    ) {
        self.instId = instId
        self.ordId = orderId
        self.clOrdId = clientOrderId
        self.newSz = newSize.map { "\($0)" }
        self.newPx = newPrice.map { "\($0)" }
        self.cxlOnFail = cancelOnFail
        self.reqId = requestId
    }
}

/// The item of an amendment: `sCode` "0" on success, with the caller's `reqId`.
public struct AmendAck: Codable, Sendable, Hashable {
    @OKXText public var ordId: String
    @OKXText public var clOrdId: String
    @OKXText public var reqId: String
    @OKXText public var sCode: String
    @OKXText public var sMsg: String
    @OKXMilliseconds public var ts: Date?
}

/// `GET /api/v5/trade/order` and `orders-pending` item.
public struct Order: Codable, Sendable, Hashable {
    public var instId: String
    public var ordId: String
    @OKXText public var clOrdId: String
    @OKXDecimal public var px: Decimal?
    @OKXDecimal public var sz: Decimal?
    @OKXText public var ordType: String
    @OKXText public var side: String
    /// "live", "partially_filled", "filled" or "canceled".
    @OKXText public var state: String
    @OKXDecimal public var accFillSz: Decimal?
    @OKXDecimal public var avgPx: Decimal?
    @OKXDecimal public var fee: Decimal?
    @OKXText public var feeCcy: String
    @OKXMilliseconds public var cTime: Date?
    @OKXMilliseconds public var uTime: Date?
}

/// `POST /api/v5/trade/cancel-order` body and `GET /api/v5/trade/order` query.
struct OrderReference: Encodable {
    let instId: String
    let ordId: String?
    let clOrdId: String?
}
