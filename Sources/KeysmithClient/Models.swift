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

/// `POST /api/v5/asset/transfer` body. `type`: "0" within the account, "1" master → sub, "2" sub → master
/// (master key), "3" sub → master (sub key), "4" sub → sub. Accounts: "6" funding, "18" trading.
public struct TransferRequest: Codable, Sendable, Hashable {
    public var ccy: String
    public var amt: String
    public var from: String
    public var to: String
    public var type: String?
    public var subAcct: String?
    public var clientId: String?

    public init(ccy: String, amount: Decimal, from: String, to: String, type: String? = nil, subAcct: String? = nil, clientId: String? = nil) {
        self.ccy = ccy
        self.amt = "\(amount)"
        self.from = from
        self.to = to
        self.type = type
        self.subAcct = subAcct
        self.clientId = clientId
    }
}

/// `POST /api/v5/asset/transfer` result.
public struct TransferResult: Codable, Sendable, Hashable {
    public var transId: String
    @OKXText public var clientId: String
    @OKXText public var ccy: String
    @OKXDecimal public var amt: Decimal?
    @OKXText public var from: String
    @OKXText public var to: String
}

/// `GET /api/v5/asset/transfer-state` item. `state`: "success", "pending" or "failed".
public struct TransferState: Codable, Sendable, Hashable {
    public var transId: String
    @OKXText public var clientId: String
    @OKXText public var ccy: String
    @OKXDecimal public var amt: Decimal?
    @OKXText public var type: String
    @OKXText public var from: String
    @OKXText public var to: String
    @OKXText public var subAcct: String
    @OKXText public var state: String
}

/// `POST /api/v5/asset/withdrawal` body (on-chain, `dest` "4").
public struct WithdrawalRequest: Codable, Sendable, Hashable {
    public var ccy: String
    public var amt: String
    public var dest = "4"
    public var toAddr: String
    public var chain: String?
    public var fee: String?
    public var clientId: String?

    public init(ccy: String, amount: Decimal, toAddress: String, chain: String? = nil, fee: Decimal? = nil, clientId: String? = nil) {
        self.ccy = ccy
        self.amt = "\(amount)"
        self.toAddr = toAddress
        self.chain = chain
        self.fee = fee.map { "\($0)" }
        self.clientId = clientId
    }
}

/// `POST /api/v5/asset/withdrawal` result.
public struct WithdrawalResult: Codable, Sendable, Hashable {
    public var wdId: String
    @OKXText public var ccy: String
    @OKXText public var chain: String
    @OKXDecimal public var amt: Decimal?
    @OKXText public var clientId: String
}

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

/// `GET /api/v5/users/subaccount/list` item.
public struct SubAccount: Codable, Sendable, Hashable {
    public var subAcct: String
    @OKXText public var uid: String
    @OKXText public var label: String
    @OKXText public var type: String
    @OKXFlag public var enable: Bool
    @OKXFlag public var canTransOut: Bool
    @OKXMilliseconds public var ts: Date?
}

/// A sub-account API key as listed or modified (`GET`/`POST /api/v5/users/subaccount/(modify-)apikey`): never a secret.
public struct SubAccountAPIKey: Codable, Sendable, Hashable {
    @OKXText public var subAcct: String
    @OKXText public var label: String
    public var apiKey: String
    @OKXList public var perm: [String]
    @OKXList public var ip: [String]
    @OKXMilliseconds public var ts: Date?
}

/// A key just created for a sub-account: the only response that carries its secret and passphrase, which are
/// available only as ``credentials`` and never printed.
public struct CreatedAPIKey: Decodable, Sendable, CustomStringConvertible {
    public let subAcct: String
    public let label: String
    public let perm: [String]
    public let ip: [String]
    public let credentials: OKXCredentials

    private enum CodingKeys: String, CodingKey {
        case subAcct, label, apiKey, secretKey, passphrase, perm, ip
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subAcct = try c.decode(OKXText.self, forKey: .subAcct).wrappedValue
        label = try c.decode(OKXText.self, forKey: .label).wrappedValue
        perm = try c.decode(OKXList.self, forKey: .perm).wrappedValue
        ip = try c.decode(OKXList.self, forKey: .ip).wrappedValue
        do {
            credentials = try OKXCredentials(
                apiKey: try c.decode(String.self, forKey: .apiKey), secret: try c.decode(String.self, forKey: .secretKey),
                passphrase: try c.decode(String.self, forKey: .passphrase))
        } catch let error as OKXClientError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description))
        }
    }

    public var description: String { "CreatedAPIKey(subAcct: \(subAcct), label: \(label), perm: \(perm), ip: \(ip), credentials: \(credentials))" }
}

/// `GET /api/v5/users/self/apikey` (Keysmith servers): the calling key's permissions, IPs, expiry and last use.
public struct KeyInfo: Codable, Sendable, Hashable {
    public var apiKey: String
    @OKXText public var label: String
    @OKXList public var perm: [String]
    @OKXList public var ip: [String]
    @OKXText public var uid: String
    @OKXText public var subAcct: String
    /// "live" or "demo".
    @OKXText public var env: String
    @OKXMilliseconds public var ts: Date?
    @OKXMilliseconds public var expTime: Date?
    /// "explicit", "inactivity" (unbound trade keys expire after 14 days unused) or "".
    @OKXText public var expiryReason: String
    @OKXMilliseconds public var lastUsedTs: Date?
    @OKXText public var lastUsedIp: String
}

/// `POST /api/v5/users/subaccount/apikey` body.
struct CreateSubAccountKeyBody: Encodable {
    let subAcct: String
    let label: String
    let passphrase: String
    let perm: String
    let ip: String?
}

/// `POST /api/v5/users/subaccount/modify-apikey` body.
struct ModifySubAccountKeyBody: Encodable {
    let subAcct: String
    let apiKey: String
    let label: String?
    let perm: String?
    let ip: String?
}

/// `POST /api/v5/users/subaccount/delete-apikey` body.
struct DeleteSubAccountKeyBody: Encodable {
    let subAcct: String
    let apiKey: String
}

/// `POST /api/v5/trade/cancel-order` body and `GET /api/v5/trade/order` query.
struct OrderReference: Encodable {
    let instId: String
    let ordId: String?
    let clOrdId: String?
}
