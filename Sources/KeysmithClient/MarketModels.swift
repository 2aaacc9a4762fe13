import Foundation

// Codable models of the OKX v5 responses and requests the client speaks. Field names are OKX's; numbers are
// `Decimal?`, times `Date?` (nil where OKX sends ""), comma lists `[String]`.

/// `GET /api/v5/public/time`.
public struct ServerTime: Codable, Sendable, Hashable {
    @OKXMilliseconds public var ts: Date?
}

/// `GET /api/v5/public/instruments` item.
public struct Instrument: Codable, Sendable, Hashable {
    @OKXText public var instType: String
    public var instId: String
    @OKXText public var baseCcy: String
    @OKXText public var quoteCcy: String
    @OKXDecimal public var tickSz: Decimal?
    @OKXDecimal public var lotSz: Decimal?
    @OKXDecimal public var minSz: Decimal?
    @OKXText public var state: String
}

/// `GET /api/v5/market/ticker` item.
public struct Ticker: Codable, Sendable, Hashable {
    public var instId: String
    @OKXDecimal public var last: Decimal?
    @OKXDecimal public var askPx: Decimal?
    @OKXDecimal public var bidPx: Decimal?
    @OKXDecimal public var open24h: Decimal?
    @OKXDecimal public var high24h: Decimal?
    @OKXDecimal public var low24h: Decimal?
    @OKXDecimal public var vol24h: Decimal?
    @OKXMilliseconds public var ts: Date?
}
