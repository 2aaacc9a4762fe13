import Hummingbird
import KeysmithApp
import KeysmithCore

/// `GET /api/v5/account/config` and `GET /api/v5/account/balance` (read permission).
struct AccountRoutes {
    let clock: any WallClock
    let ledger: LedgerService
    let engine: MatchingEngine

    func register(read group: RouterGroup<AppRequestContext>) {
        group.get("account/config") { _, context in
            let cached = try context.requireKey()
            return OKXBody(try cached.responses.body(for: "account/config") { try OKXResponse([AccountConfig(cached)]).body() })
        }
        group.get("account/balance") { request, context in
            let cached = try context.requireKey()
            return try await balance(of: cached.account, query: request.uri.query)
        }
    }
}

extension AccountRoutes {
    /// The trading balance of `account`, optionally only the currencies of a `ccy` comma list.
    func balance(of account: Account, query: String?) async throws(OKXError) -> OKXResponse<TradingBalance> {
        let params = OKXParameters(query: query)
        var balances = try await ledger.balances(of: account)
        if let codes = params.optional("ccy") {
            let wanted = Set(codes.split(separator: ",").map { $0.uppercased() })
            balances = balances.filter { wanted.contains($0.currency) }
        }
        return OKXResponse([
            TradingBalance(
                balances, currencies: try await ledger.currencies(), prices: try await engine.usdtPrices(), now: clock.milliseconds)
        ])
    }
}

/// One `account/config` item: the account's settings and the calling key's `label`, `perm` and `ip`.
struct AccountConfig: Encodable, Sendable {
    let acctLv: String
    let acctStpMode = "cancel_maker"
    let autoLoan = false
    let ctIsoMode = "automatic"
    let enableSpotBorrow = false
    let greeksType = "PA"
    let ip: String
    let kycLv = "0"
    let label: String
    let level = "Lv1"
    let levelTmp = ""
    let liquidationGear = "-1"
    let mainUid: String
    let mgnIsoMode = "automatic"
    let opAuth = "0"
    let perm: String
    let posMode: String
    let roleType: String
    let spotBorrowAutoRepay = false
    let spotOffsetType = ""
    let spotRoleType = "0"
    let spotTraderInsts: [String] = []
    let traderInsts: [String] = []
    let type: String
    let uid: String
    let settleCcy = "USDT"
    let settleCcyList = ["USDT"]

    init(_ cached: CachedKey) {
        acctLv = cached.account.level.rawValue
        ip = cached.key.allowlist.okxString
        label = cached.key.label
        mainUid = cached.account.mainUID
        perm = cached.key.permissions.okxString
        posMode = cached.account.positionMode.rawValue
        roleType = "0"
        type = cached.account.type.rawValue
        uid = cached.account.uid
    }
}
