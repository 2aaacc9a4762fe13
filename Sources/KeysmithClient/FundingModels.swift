import Foundation

// Codable models of the OKX v5 responses and requests the client speaks. Field names are OKX's; numbers are
// `Decimal?`, times `Date?` (nil where OKX sends ""), comma lists `[String]`.

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
