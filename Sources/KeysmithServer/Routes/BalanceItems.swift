import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The `account/balance` item: one `details` line per currency the trading account has ever held (zero ones too,
/// so that callers indexing by currency find it). `eqUsd` and `totalEq` value each currency at its last USDT trade
/// price (USDT at 1; a currency that has not traded yet at 0).
struct TradingBalance: Encodable, Sendable {
    let adjEq: String
    let details: [Detail]
    let imr: String
    let isoEq: String
    let mgnRatio: String
    let mmr: String
    let notionalUsd: String
    let ordFroz: String
    let totalEq: String
    let uTime: String
    let upl: String

    struct Detail: Encodable, Sendable {
        let availBal: String
        let availEq: String
        let cashBal: String
        let ccy: String
        let crossLiab = ""
        let disEq: String
        let eq: String
        let eqUsd: String
        let frozenBal: String
        let imr: String
        let interest = ""
        let isoEq: String
        let isoLiab = ""
        let liab = ""
        let maxLoan = ""
        let mgnRatio: String
        let mmr: String
        let notionalLever: String
        let ordFrozen: String
        let twap = "0"
        let uTime: String
        let upl: String
        let uplLiab = ""
    }

    /// `margins`: per settlement currency, what the account's SWAP positions hold and are worth at the mark. Their
    /// margin (held by the clearing account) counts in `cashBal`, `eq` and `frozenBal`, their unrealised profit or
    /// loss in `eq` and `upl`.
    init(
        _ balances: [StoredBalance], currencies: [Currency], prices: [String: Amount], margins: [String: MarginTotals] = [:],
        now: Int64
    ) {
        let scales = currencies.scales
        var total = Amount.zero(scale: 8)
        var totals = MarginTotals()
        for held in margins.values { totals.add(held) }
        details = balances.filter { $0.kind == .trading }.map { balance in
            let scale = scales[balance.currency] ?? 8
            let money = { (units: Int128) in Amount.text(units: units, scale: scale) }
            let held = margins[balance.currency]
            let cash = Int128(balance.available) + Int128(balance.frozen) + Int128(held?.margin ?? 0)
            let equityUnits = cash + Int128(held?.profit ?? 0)
            let equity = Amount(units: Int64(clamping: equityUnits), scale: scale)
            let usd = prices[balance.currency].flatMap { equity.value(at: $0, scale: 8) } ?? .zero(scale: 8)
            total = total.adding(usd) ?? total
            let futures = { (value: (MarginTotals) -> Int64) in held.map { money(Int128(value($0))) } ?? "" }
            return Detail(
                availBal: money(Int128(balance.available)), availEq: money(Int128(balance.available)), cashBal: money(cash),
                ccy: balance.currency, disEq: usd.text, eq: money(equityUnits), eqUsd: usd.text,
                frozenBal: money(Int128(balance.frozen) + Int128(held?.margin ?? 0)), imr: futures(\.crossInitial),
                isoEq: futures(\.isolatedEquity), mgnRatio: held.map { ratioText(equityUnits, Int128($0.maintenance), scale: 2) } ?? "",
                mmr: futures(\.maintenance), notionalLever: held.map { ratioText(Int128($0.notional), equityUnits, scale: 2) } ?? "",
                ordFrozen: money(Int128(balance.frozen)), uTime: String(balance.updatedAt), upl: futures(\.profit))
        }
        totalEq = total.text
        uTime = String(now)
        // Account-wide figures in USD (USDT at 1: the only settlement currency).
        let usd = { (units: Int64) in Amount(units: units, scale: 6).rescaled(to: 8)?.text ?? "" }
        let hasPositions = !margins.isEmpty
        adjEq = hasPositions ? total.text : ""
        imr = hasPositions ? usd(totals.crossInitial) : ""
        mmr = hasPositions ? usd(totals.maintenance) : ""
        upl = hasPositions ? usd(totals.profit) : ""
        notionalUsd = hasPositions ? usd(totals.notional) : ""
        isoEq = hasPositions ? usd(totals.isolatedEquity) : ""
        ordFroz = ""
        mgnRatio = hasPositions ? ratioText(Int128(total.units), Int128(totals.maintenance) * 100, scale: 2) : ""
    }
}

/// What an account's positions in one settlement currency hold and are worth at the mark price (settlement units).
struct MarginTotals: Sendable {
    /// Margin of every position, held by the clearing account.
    var margin: Int64 = 0
    var profit: Int64 = 0
    var notional: Int64 = 0
    var crossInitial: Int64 = 0
    var isolatedEquity: Int64 = 0
    var maintenance: Int64 = 0

    mutating func add(_ other: MarginTotals) {
        margin = margin.addingClamped(other.margin)
        profit = profit.addingClamped(other.profit)
        notional = notional.addingClamped(other.notional)
        crossInitial = crossInitial.addingClamped(other.crossInitial)
        isolatedEquity = isolatedEquity.addingClamped(other.isolatedEquity)
        maintenance = maintenance.addingClamped(other.maintenance)
    }

    /// Adds a position, valued at the mark when there is one.
    mutating func add(_ position: Position, valued: PositionValuation?) {
        margin = margin.addingClamped(position.margin)
        guard let valued else { return }
        profit = profit.addingClamped(valued.profit)
        notional = notional.addingClamped(valued.notional)
        maintenance = maintenance.addingClamped(valued.maintenance)
        if position.key.marginMode == .cross {
            crossInitial = crossInitial.addingClamped(valued.initial)
        } else {
            isolatedEquity = isolatedEquity.addingClamped(position.margin.addingClamped(valued.profit))
        }
    }
}

/// An `asset/balances` item (funding account).
struct FundingBalance: Encodable, Sendable {
    let availBal: String
    let bal: String
    let ccy: String
    let frozenBal: String

    static func items(_ balances: [StoredBalance], currencies: [Currency], only codes: Set<String>?) -> [FundingBalance] {
        let scales = currencies.scales
        return balances.filter { $0.kind == .funding && (codes?.contains($0.currency) ?? true) }.map { balance in
            let scale = scales[balance.currency] ?? 8
            let available = Amount(units: balance.available, scale: scale), frozen = Amount(units: balance.frozen, scale: scale)
            return FundingBalance(
                availBal: available.text, bal: (available.adding(frozen) ?? available).text, ccy: balance.currency, frozenBal: frozen.text)
        }
    }
}

/// An `asset/currencies` item: one chain per currency.
struct CurrencyItem: Encodable, Sendable {
    let canDep: Bool
    let canInternal = false
    let canWd: Bool
    let ccy: String
    let chain: String
    let fee: String
    let logoLink = ""
    let mainNet = true
    let maxFee: String
    let maxWd: String
    let minFee: String
    let minWd: String
    let name: String
    let usedWdQuota = "0"
    let wdQuota: String
    let wdTickSz: String

    init(_ currency: Currency) {
        canDep = currency.canDeposit
        canWd = currency.canWithdraw
        ccy = currency.code
        chain = currency.chain
        fee = currency.withdrawalFee.text
        maxFee = currency.withdrawalFee.text
        minFee = currency.withdrawalFee.text
        maxWd = currency.maximumWithdrawal.text
        minWd = currency.minimumWithdrawal.text
        name = currency.name
        wdQuota = currency.dailyWithdrawalLimit.text
        wdTickSz = String(currency.scale)
    }
}

/// A `deposit-address` item.
struct DepositAddressItem: Encodable, Sendable {
    let addr: String
    let ccy: String
    let chain: String
    let ctAddr = ""
    let selected = true
    let to = "6"
    let verifiedName = ""
}

/// A `deposit-history` item; simulated deposits are credited at once (state 2).
struct DepositItem: Encodable, Sendable {
    let actualDepBlkConfirm = "6"
    let amt: String
    let areaCodeFrom = ""
    let ccy: String
    let chain: String
    let depId: String
    let from = ""
    let fromWdId = ""
    let state = "2"
    let to: String
    let ts: String
    let txId: String

    init(_ deposit: DepositRecord, scale: Int) {
        amt = Amount(units: deposit.amount, scale: scale).text
        ccy = deposit.currency
        chain = deposit.chain
        depId = String(deposit.id)
        to = deposit.address
        ts = String(deposit.createdAt)
        txId = deposit.txID
    }
}

/// A transfer as `asset/transfer` answers it and as `transfer-state` describes it.
struct TransferItem: Encodable, Sendable {
    let amt: String
    let ccy: String
    let clientId: String
    let from: String
    let to: String
    let transId: String
    let state: String?
    let subAcct: String?
    let type: String?
    let instId: String?
    let toInstId: String?

    init(_ transfer: TransferRecord, scale: Int, detailed: Bool) {
        amt = Amount(units: transfer.amount, scale: scale).text
        ccy = transfer.currency
        clientId = transfer.clientID
        from = transfer.from.kind.rawValue
        to = transfer.to.kind.rawValue
        transId = String(transfer.id)
        state = detailed ? transfer.state : nil
        subAcct = detailed ? transfer.subAccount : nil
        type = detailed ? transfer.type : nil
        instId = detailed ? "" : nil
        toInstId = detailed ? "" : nil
    }
}

/// The `asset/withdrawal` answer.
struct WithdrawalReceipt: Encodable, Sendable {
    let amt: String
    let ccy: String
    let chain: String
    let clientId: String
    let wdId: String
}

/// A `withdrawal-history` item.
struct WithdrawalItem: Encodable, Sendable {
    let amt: String
    let areaCodeFrom = ""
    let areaCodeTo = ""
    let ccy: String
    let chain: String
    let clientId: String
    let fee: String
    let feeCcy: String
    let from = ""
    let nonTradableAsset = false
    let state: String
    let to: String
    let ts: String
    let txId: String
    let wdId: String

    init(_ record: WithdrawalRecord, scale: Int) {
        amt = Amount(units: record.amount, scale: scale).text
        ccy = record.currency
        chain = record.chain
        clientId = record.clientID
        fee = Amount(units: record.fee, scale: scale).text
        feeCcy = record.currency
        state = record.state.rawValue
        to = record.address
        ts = String(record.createdAt)
        txId = record.txID
        wdId = String(record.id)
    }
}
