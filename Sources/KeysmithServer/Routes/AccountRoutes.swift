import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// `GET /api/v5/account/config`, `account/balance`, `account/max-withdrawal` and `asset/asset-valuation` (read
/// permission).
struct AccountRoutes {
    let clock: any WallClock
    let ledger: LedgerService
    let engine: MatchingEngine
    let marks: MarkPriceService

    func register(read group: RouterGroup<AppRequestContext>) {
        group.get("account/config") { _, context in
            let cached = try context.requireKey()
            return OKXBody(try cached.responses.body(for: "account/config") { try OKXResponse([AccountConfig(cached)]).body() })
        }
        group.get("account/balance") { request, context in
            let cached = try context.requireKey()
            return try await balance(of: cached.account, query: request.uri.query)
        }
        group.get("account/max-withdrawal") { request, context in
            let cached = try context.requireKey()
            return try await maximumWithdrawals(of: cached.account, query: request.uri.query)
        }
        group.get("asset/asset-valuation") { request, context in
            let cached = try context.requireKey()
            return try await valuation(of: cached.account, query: request.uri.query)
        }
    }
}

extension AccountRoutes {
    /// The trading balance of `account`, optionally only the currencies of a `ccy` comma list.
    func balance(of account: Account, query: String?) async throws(OKXError) -> OKXResponse<TradingBalance> {
        balance(from: try await balanceInputs(of: account), query: query)
    }

    /// What an account's trading balance is computed from, read once (the WebSocket renders every subscription of
    /// an account from one reading per change).
    struct BalanceInputs: Sendable {
        let balances: [StoredBalance]
        let margins: [String: MarginTotals]
        let currencies: [Currency]
        let prices: [String: Amount]
    }

    func balanceInputs(of account: Account) async throws(OKXError) -> BalanceInputs {
        let balances = try await ledger.balances(of: account)
        var margins: [String: MarginTotals] = [:]
        for (position, _) in try await engine.openPositions(of: account.uid) {
            let inst = try await engine.instrument(position.key.instrument)
            let mark = try await marks.mark(of: inst).flatMap { $0.rescaled(to: inst.tickSize.scale) }
            margins[inst.quote, default: MarginTotals()].add(position, valued: mark.flatMap { PositionValuation(position, instrument: inst, mark: $0) })
        }
        return BalanceInputs(balances: balances, margins: margins, currencies: try await ledger.currencies(), prices: try await engine.usdtPrices())
    }

    func balance(from inputs: BalanceInputs, query: String?) -> OKXResponse<TradingBalance> {
        let params = OKXParameters(query: query)
        var balances = inputs.balances
        if let codes = params.optional("ccy") {
            let wanted = Set(codes.split(separator: ",").map { $0.uppercased() })
            balances = balances.filter { wanted.contains($0.currency) }
        }
        return OKXResponse([
            TradingBalance(balances, currencies: inputs.currencies, prices: inputs.prices, margins: inputs.margins, now: clock.milliseconds)
        ])
    }
}

extension AccountRoutes {
    /// What can leave the trading account per currency (its available balance: spot holds no borrowing): every
    /// currency held there, or those of a `ccy` list (at most 20), held or not.
    func maximumWithdrawals(of account: Account, query: String?) async throws(OKXError) -> OKXResponse<MaxWithdrawalItem> {
        let params = OKXParameters(query: query)
        let balances = try await ledger.balances(of: account).filter { $0.kind == .trading }
        let scales = try await ledger.currencies().scales
        var codes = balances.map(\.currency)
        if let list = params.optional("ccy") {
            codes = list.split(separator: ",").map { $0.uppercased() }
            guard codes.count <= 20 else { throw OKXError.parameterError("ccy").with(message: "Parameter ccy error: at most 20 currencies") }
            guard codes.allSatisfy({ scales[$0] != nil }) else { throw OKXError.parameterError("ccy") }
        }
        let available = Dictionary(balances.map { ($0.currency, $0.available) }, uniquingKeysWith: { first, _ in first })
        return OKXResponse(codes.map { code in
            let text = Amount(units: available[code] ?? 0, scale: scales[code] ?? 8).text
            return MaxWithdrawalItem(ccy: code, maxWd: text, maxWdEx: text)
        })
    }

    /// The account's holdings valued in `ccy` (BTC by default; USDT or USD) at the last traded USDT prices: funding,
    /// trading, and OKX's classic and earn accounts (always 0 here). A currency that has not traded against USDT
    /// counts as 0, and BTC needs a BTC-USDT trade to value anything but BTC itself.
    func valuation(of account: Account, query: String?) async throws(OKXError) -> OKXResponse<AssetValuation> {
        let unit = OKXParameters(query: query).optional("ccy")?.uppercased() ?? "BTC"
        guard ["BTC", "USDT", "USD"].contains(unit) else {
            throw OKXError.parameterError("ccy").with(message: "Parameter ccy error: Keysmith values in BTC, USDT or USD")
        }
        let balances = try await ledger.balances(of: account)
        let scales = try await ledger.currencies().scales
        let prices = try await engine.usdtPrices()
        /// A kind's holdings at 8 decimals, summed over 128 bits: BTC itself, and everything else's USDT value.
        func held(_ kind: BalanceKind) -> Holdings {
            var held = Holdings()
            for balance in balances where balance.kind == kind {
                let (sum, overflow) = balance.available.addingReportingOverflow(balance.frozen)
                let amount = Amount(units: overflow ? .max : sum, scale: scales[balance.currency] ?? 8)
                if balance.currency == "BTC" { held.btc = held.btc.addingClamped(Int128(amount.rescaled(to: 8)?.units ?? 0)) }
                guard let price = prices[balance.currency] else { continue }
                let usdt = Self.usdtValue(amount, at: price)
                held.usdt = held.usdt.addingClamped(usdt)
                if balance.currency != "BTC" { held.usdtOutsideBTC = held.usdtOutsideBTC.addingClamped(usdt) }
            }
            return held
        }
        /// Holdings in the unit, as text: BTC counts exactly in BTC, and each total is converted once.
        func text(_ held: Holdings) -> String {
            guard unit == "BTC" else { return Amount.text(units: held.usdt, scale: 8) }
            guard let price = prices["BTC"], price.units > 0 else { return Amount.text(units: held.btc, scale: 8) }
            // USDT (8 decimals) / price (its scale) → BTC at 8 decimals, rounded down; a quotient beyond 128 bits
            // (sums of the largest balances at an 18-decimal price) reads as the largest value, never traps.
            var numerator = held.usdtOutsideBTC
            for _ in 0..<price.scale {
                let (shifted, overflow) = numerator.multipliedReportingOverflow(by: 10)
                guard !overflow else { return Amount.text(units: .max, scale: 8) }
                numerator = shifted
            }
            return Amount.text(units: held.btc.addingClamped(numerator / Int128(price.units)), scale: 8)
        }
        let funding = held(.funding), trading = held(.trading)
        return OKXResponse([
            AssetValuation(
                details: .init(classic: "0", earn: "0", funding: text(funding), trading: text(trading)),
                totalBal: text(funding.adding(trading)),
                ts: String(clock.milliseconds))
        ])
    }
}

extension AccountRoutes {
    /// `amount × price` in USDT units at 8 decimals, over 128 bits (two 64-bit factors always fit; a scale-up that
    /// would not reads as the largest value).
    static func usdtValue(_ amount: Amount, at price: Amount) -> Int128 {
        var product = Int128(amount.units) * Int128(price.units)
        let shift = 8 - amount.scale - price.scale
        for _ in 0..<max(0, shift) {
            let (shifted, overflow) = product.multipliedReportingOverflow(by: 10)
            guard !overflow else { return .max }
            product = shifted
        }
        for _ in 0..<max(0, -shift) { product /= 10 }
        return product
    }
}

/// Holdings at 8 decimals: BTC held, the USDT value of everything, and of everything but BTC.
struct Holdings {
    var btc: Int128 = 0
    var usdt: Int128 = 0
    var usdtOutsideBTC: Int128 = 0

    func adding(_ other: Holdings) -> Holdings {
        Holdings(
            btc: btc.addingClamped(other.btc), usdt: usdt.addingClamped(other.usdt),
            usdtOutsideBTC: usdtOutsideBTC.addingClamped(other.usdtOutsideBTC))
    }
}

extension Int128 {
    /// The sum, or the largest value where it would not fit.
    func addingClamped(_ other: Int128) -> Int128 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

/// An `account/max-withdrawal` item (spot: no borrowing, so the `spotOffset` fields are empty).
struct MaxWithdrawalItem: Encodable, Sendable {
    let ccy: String
    let maxWd: String
    let maxWdEx: String
    let spotOffsetMaxWd = ""
    let spotOffsetMaxWdEx = ""
}

/// An `asset/asset-valuation` item.
struct AssetValuation: Encodable, Sendable {
    struct Details: Encodable, Sendable {
        let classic: String
        let earn: String
        let funding: String
        let trading: String
    }

    let details: Details
    let totalBal: String
    let ts: String
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
