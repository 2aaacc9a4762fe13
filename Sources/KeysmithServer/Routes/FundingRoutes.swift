import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The funding (`/api/v5/asset/...`) endpoints and the master's views of its sub-accounts' balances: reads need the
/// read permission, transfers need trade.
struct FundingRoutes {
    let ledger: LedgerService
    let accounts: AccountService
    let balances: AccountRoutes
    let withdrawals: WithdrawalService

    func register(read: RouterGroup<AppRequestContext>, trade: RouterGroup<AppRequestContext>, withdraw: RouterGroup<AppRequestContext>) {
        withdraw.post("asset/withdrawal", use: withdrawal)
        withdraw.post("asset/cancel-withdrawal", use: cancelWithdrawal)
        read.get("asset/withdrawal-history", use: withdrawalHistory)
        read.get("asset/balances", use: fundingBalances)
        read.get("asset/currencies", use: currencies)
        read.get("asset/deposit-address", use: depositAddress)
        read.get("asset/deposit-history", use: depositHistory)
        read.get("asset/transfer-state", use: transferState)
        trade.post("asset/transfer", use: transfer)
        read.get("account/subaccount/balances", use: subAccountTradingBalance)
        read.get("asset/subaccount/balances", use: subAccountFundingBalances)
        trade.post("asset/subaccount/transfer", use: subAccountTransfer)
    }

    @Sendable func fundingBalances(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<FundingBalance> {
        let account = try context.requireKey().account
        return try await funding(of: account, query: OKXParameters(query: request.uri.query))
    }

    @Sendable func currencies(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<CurrencyItem> {
        _ = try context.requireKey()
        let wanted = Self.codes(OKXParameters(query: request.uri.query).optional("ccy"))
        return OKXResponse(try await ledger.currencies().filter { wanted?.contains($0.code) ?? true }.map(CurrencyItem.init))
    }

    @Sendable func depositAddress(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<DepositAddressItem> {
        let account = try context.requireKey().account
        let currency = try await ledger.currency(try OKXParameters(query: request.uri.query).required("ccy"))
        guard account.depositsAllowed else {
            throw OKXError.parameterError("ccy").with(message: "Deposits are disabled for sub-account \(account.name)")
        }
        let address = ledger.depositAddress(of: account, currency: currency)
        return OKXResponse([DepositAddressItem(addr: address, ccy: currency.code, chain: currency.chain)])
    }

    @Sendable func depositHistory(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<DepositItem> {
        let account = try context.requireKey().account
        let params = OKXParameters(query: request.uri.query)
        let limit = try params.limit(maximum: 100)
        let scales = (try await ledger.currencies()).scales
        var deposits = try await ledger.deposits(of: account, currency: params.optional("ccy"), limit: 1_000)
        if let id = params.optional("depId") { deposits = deposits.filter { String($0.id) == id } }
        if let txID = params.optional("txId") { deposits = deposits.filter { $0.txID == txID } }
        return OKXResponse(deposits.prefix(limit).map { DepositItem($0, scale: scales[$0.currency] ?? 8) })
    }

    @Sendable func transfer(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<TransferItem> {
        let caller = try context.requireKey().account
        let params = try OKXParameters(jsonBody: context.body)
        let result = try await ledger.transfer(TransferRequest(parameters: params), by: caller, origin: context.auditOrigin(request))
        return try await item(result.transfer, detailed: false)
    }

    @Sendable func transferState(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<TransferItem> {
        let caller = try context.requireKey().account
        let params = OKXParameters(query: request.uri.query)
        guard let found = try await ledger.transfer(id: params.optional("transId"), clientID: params.optional("clientId"), for: caller)
        else { return OKXResponse([]) }
        return try await item(found, detailed: true)
    }

    @Sendable func subAccountTradingBalance(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<TradingBalance> {
        let sub = try await namedSubAccount(context, OKXParameters(query: request.uri.query))
        return try await balances.balance(of: sub, query: nil)
    }

    @Sendable func subAccountFundingBalances(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<FundingBalance> {
        let params = OKXParameters(query: request.uri.query)
        return try await funding(of: try await namedSubAccount(context, params), query: params)
    }

    @Sendable func subAccountTransfer(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<TransferItem> {
        let caller = try context.requireKey().account
        let params = try OKXParameters(jsonBody: context.body)
        let result = try await ledger.subAccountTransfer(
            currency: try params.required("ccy"), amount: try params.required("amt"), from: try params.required("from"),
            to: try params.required("to"), fromSubAccount: try params.required("fromSubAccount"),
            toSubAccount: try params.required("toSubAccount"), clientID: try params.clientIdentifier("clientId"), by: caller,
            origin: context.auditOrigin(request))
        return try await item(result.transfer, detailed: false)
    }

    // MARK: - Withdrawals

    @Sendable func withdrawal(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<WithdrawalReceipt> {
        let caller = try context.requireKey().account
        let params = try OKXParameters(jsonBody: context.body)
        let result = try await withdrawals.request(WithdrawalRequest(parameters: params), by: caller, origin: context.auditOrigin(request))
        let record = result.withdrawal
        let scale = try await ledger.currency(record.currency).scale
        return OKXResponse([
            WithdrawalReceipt(
                amt: Amount(units: record.amount, scale: scale).text, ccy: record.currency, chain: record.chain, clientId: record.clientID,
                wdId: String(record.id))
        ])
    }

    @Sendable func cancelWithdrawal(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<[String: String]> {
        let caller = try context.requireKey().account
        let params = try OKXParameters(jsonBody: context.body)
        let canceled = try await withdrawals.cancel(id: try params.required("wdId"), by: caller, origin: context.auditOrigin(request))
        return OKXResponse([["wdId": String(canceled.id)]])
    }

    @Sendable func withdrawalHistory(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<WithdrawalItem> {
        let caller = try context.requireKey().account
        let params = OKXParameters(query: request.uri.query)
        let state = try params.optional("state").map { text throws(OKXError) in
            guard let state = WithdrawalState(rawValue: text) else { throw OKXError.parameterError("state") }
            return state
        }
        let scales = (try await ledger.currencies()).scales
        var records = try await withdrawals.withdrawals(of: caller, state: state, limit: 1_000)
        if let ccy = params.optional("ccy")?.uppercased() { records = records.filter { $0.currency == ccy } }
        if let id = params.optional("wdId") { records = records.filter { String($0.id) == id } }
        if let clientID = params.optional("clientId") { records = records.filter { $0.clientID == clientID } }
        return OKXResponse(records.prefix(try params.limit(maximum: 100)).map { WithdrawalItem($0, scale: scales[$0.currency] ?? 8) })
    }

    // MARK: - Helpers

    private func funding(of account: Account, query params: OKXParameters) async throws(OKXError) -> OKXResponse<FundingBalance> {
        let balances = try await ledger.balances(of: account)
        return OKXResponse(
            FundingBalance.items(balances, currencies: try await ledger.currencies(), only: Self.codes(params.optional("ccy"))))
    }

    private func item(_ transfer: TransferRecord, detailed: Bool) async throws(OKXError) -> OKXResponse<TransferItem> {
        let scale = try await ledger.currency(transfer.currency).scale
        return OKXResponse([TransferItem(transfer, scale: scale, detailed: detailed)])
    }

    /// The `subAcct` of a master key's request (59500 for other keys, 58115 when unknown).
    private func namedSubAccount(_ context: AppRequestContext, _ params: OKXParameters) async throws(OKXError) -> Account {
        guard try context.requireKey().account.isMaster else { throw OKXError.masterAccountOnly }
        return try await accounts.subAccount(named: try params.required("subAcct"))
    }

    private static func codes(_ list: String?) -> Set<String>? {
        list.map { Set($0.split(separator: ",").map { $0.uppercased() }) }
    }
}
