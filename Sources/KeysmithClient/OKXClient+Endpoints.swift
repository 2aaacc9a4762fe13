import Foundation
import NIOHTTP1

/// The typed endpoints: each one OKX v5 call, decoded into the models.
extension OKXClient {
    // MARK: Public data

    public func serverTime() async throws -> Date {
        let time: ServerTime = try one(try await request(.GET, "/api/v5/public/time", signed: false))
        guard let ts = time.ts else { throw OKXClientError.decoding("public/time without ts") }
        return ts
    }

    public func instruments(type: String = "SPOT", instId: String? = nil) async throws -> [Instrument] {
        try await request(.GET, "/api/v5/public/instruments", query: [("instType", type), ("instId", instId)], signed: false)
    }

    public func ticker(_ instId: String) async throws -> Ticker {
        try one(try await request(.GET, "/api/v5/market/ticker", query: [("instId", instId)], signed: false))
    }

    // MARK: Account and funding

    public func accountConfiguration() async throws -> AccountConfiguration {
        try one(try await request(.GET, "/api/v5/account/config"))
    }

    /// The trading account's balances, optionally only `currencies`.
    public func balance(currencies: [String] = []) async throws -> AccountBalance {
        try one(try await request(.GET, "/api/v5/account/balance", query: [("ccy", list(currencies))]))
    }

    /// The funding account's balances, optionally only `currencies`.
    public func assetBalances(currencies: [String] = []) async throws -> [AssetBalance] {
        try await request(.GET, "/api/v5/asset/balances", query: [("ccy", list(currencies))])
    }

    public func transfer(_ transfer: TransferRequest) async throws -> TransferResult {
        try one(try await request(.POST, "/api/v5/asset/transfer", body: transfer))
    }

    public func transferState(transferId: String? = nil, clientId: String? = nil) async throws -> TransferState {
        try one(try await request(.GET, "/api/v5/asset/transfer-state", query: [("transId", transferId), ("clientId", clientId)]))
    }

    public func withdraw(_ withdrawal: WithdrawalRequest) async throws -> WithdrawalResult {
        try one(try await request(.POST, "/api/v5/asset/withdrawal", body: withdrawal))
    }

    // MARK: Trading

    /// Places one order; a refused order throws `.api` with the order's `sCode` as ``OKXClientError/code``.
    public func placeOrder(_ order: OrderRequest) async throws -> OrderAck {
        try one(try await request(.POST, "/api/v5/trade/order", body: order))
    }

    public func cancelOrder(instId: String, orderId: String? = nil, clientOrderId: String? = nil) async throws -> OrderAck {
        try one(try await request(.POST, "/api/v5/trade/cancel-order", body: OrderReference(instId: instId, ordId: orderId, clOrdId: clientOrderId)))
    }

    /// Amends an open order to a new total size (what it filled included) and/or price; it keeps its id. A refused
    /// amendment throws `.api` with its `sCode` (51503 not found, 51509 cancelled, 51510 filled, ...).
    public func amendOrder(_ amendment: AmendOrderRequest) async throws -> AmendAck {
        try one(try await request(.POST, "/api/v5/trade/amend-order", body: amendment))
    }

    public func order(instId: String, orderId: String? = nil, clientOrderId: String? = nil) async throws -> Order {
        try one(try await request(.GET, "/api/v5/trade/order", query: [("instId", instId), ("ordId", orderId), ("clOrdId", clientOrderId)]))
    }

    public func pendingOrders(instId: String? = nil) async throws -> [Order] {
        try await request(.GET, "/api/v5/trade/orders-pending", query: [("instType", "SPOT"), ("instId", instId)])
    }

    // MARK: Sub-accounts and keys (master-account keys)

    public func subAccounts() async throws -> [SubAccount] {
        try await request(.GET, "/api/v5/users/subaccount/list")
    }

    /// Creates a key for a sub-account; the secret and passphrase are in the result's `credentials` only.
    public func createSubAccountAPIKey(
        subAccount: String, label: String, passphrase: String, permissions: [String] = ["read_only"], ips: [String] = []
    ) async throws -> CreatedAPIKey {
        try one(try await request(
            .POST, "/api/v5/users/subaccount/apikey",
            body: CreateSubAccountKeyBody(
                subAcct: subAccount, label: label, passphrase: passphrase, perm: permissions.joined(separator: ","),
                ip: ips.isEmpty ? nil : ips.joined(separator: ","))))
    }

    public func subAccountAPIKeys(subAccount: String, apiKey: String? = nil) async throws -> [SubAccountAPIKey] {
        try await request(.GET, "/api/v5/users/subaccount/apikey", query: [("subAcct", subAccount), ("apiKey", apiKey)])
    }

    /// Changes a sub-account key; nil leaves a field as it is, an empty `ips` unbinds every IP.
    public func modifySubAccountAPIKey(
        subAccount: String, apiKey: String, label: String? = nil, permissions: [String]? = nil, ips: [String]? = nil
    ) async throws -> SubAccountAPIKey {
        try one(try await request(
            .POST, "/api/v5/users/subaccount/modify-apikey",
            body: ModifySubAccountKeyBody(
                subAcct: subAccount, apiKey: apiKey, label: label, perm: permissions?.joined(separator: ","),
                ip: ips?.joined(separator: ","))))
    }

    public func deleteSubAccountAPIKey(subAccount: String, apiKey: String) async throws {
        let _: [Discarded] = try await request(
            .POST, "/api/v5/users/subaccount/delete-apikey", body: DeleteSubAccountKeyBody(subAcct: subAccount, apiKey: apiKey))
    }

    /// What a Keysmith server knows of the calling key (expiry, last use). OKX itself has no such endpoint.
    public func keyInfo() async throws -> KeyInfo {
        try one(try await request(.GET, "/api/v5/users/self/apikey"))
    }
}
