import Foundation

// Codable models of the OKX v5 responses and requests the client speaks. Field names are OKX's; numbers are
// `Decimal?`, times `Date?` (nil where OKX sends ""), comma lists `[String]`.

/// `GET /api/v5/account/config`: the account's settings and the calling key's label, permissions and IPs.
public struct AccountConfiguration: Codable, Sendable, Hashable {
    public var uid: String
    @OKXText public var mainUid: String
    /// "1" spot, "2" spot and futures, "3" multi-currency margin, "4" portfolio margin.
    @OKXText public var acctLv: String
    /// `net_mode` (one-way) or `long_short_mode`.
    @OKXText public var posMode: String
    @OKXList public var perm: [String]
    @OKXList public var ip: [String]
    @OKXText public var label: String
    @OKXText public var type: String

    /// True when the key belongs to the master account rather than a sub-account.
    public var isMasterAccount: Bool { mainUid.isEmpty || mainUid == uid }
    public var canWithdraw: Bool { perm.contains("withdraw") }
    public var canTrade: Bool { perm.contains("trade") }
}

/// `GET /api/v5/account/balance`: the trading account.
public struct AccountBalance: Codable, Sendable, Hashable {
    @OKXDecimal public var totalEq: Decimal?
    @OKXMilliseconds public var uTime: Date?
    public var details: [Detail]

    public struct Detail: Codable, Sendable, Hashable {
        public var ccy: String
        @OKXDecimal public var eq: Decimal?
        @OKXDecimal public var cashBal: Decimal?
        @OKXDecimal public var availBal: Decimal?
        @OKXDecimal public var frozenBal: Decimal?
        @OKXDecimal public var eqUsd: Decimal?
        @OKXMilliseconds public var uTime: Date?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        _totalEq = try c.decode(OKXDecimal.self, forKey: .totalEq)
        _uTime = try c.decode(OKXMilliseconds.self, forKey: .uTime)
        details = try c.decodeIfPresent([Detail].self, forKey: .details) ?? []
    }
}

/// `GET /api/v5/asset/balances` item: the funding account.
public struct AssetBalance: Codable, Sendable, Hashable {
    public var ccy: String
    @OKXDecimal public var bal: Decimal?
    @OKXDecimal public var availBal: Decimal?
    @OKXDecimal public var frozenBal: Decimal?
}
