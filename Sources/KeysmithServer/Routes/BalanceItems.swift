import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The `account/balance` item: one `details` line per currency the trading account has ever held (zero ones too,
/// so that callers indexing by currency find it). `eqUsd` and `totalEq` value each currency at its last USDT trade
/// price (USDT at 1; a currency that has not traded yet at 0).
struct TradingBalance: Encodable, Sendable {
    let adjEq = ""
    let details: [Detail]
    let imr = ""
    let isoEq = ""
    let mgnRatio = ""
    let mmr = ""
    let notionalUsd = ""
    let ordFroz = ""
    let totalEq: String
    let uTime: String

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
        let interest = ""
        let isoEq = ""
        let isoLiab = ""
        let liab = ""
        let maxLoan = ""
        let mgnRatio = ""
        let notionalLever = ""
        let ordFrozen: String
        let twap = "0"
        let uTime: String
        let upl = ""
        let uplLiab = ""
    }

    init(_ balances: [StoredBalance], currencies: [Currency], prices: [String: Amount], now: Int64) {
        let scales = currencies.scales
        var total = Amount.zero(scale: 8)
        details = balances.filter { $0.kind == .trading }.map { balance in
            let scale = scales[balance.currency] ?? 8
            let available = Amount(units: balance.available, scale: scale), frozen = Amount(units: balance.frozen, scale: scale)
            let equity = available.adding(frozen) ?? available
            let usd = prices[balance.currency].flatMap { equity.value(at: $0, scale: 8) } ?? .zero(scale: 8)
            total = total.adding(usd) ?? total
            return Detail(
                availBal: available.text, availEq: available.text, cashBal: equity.text, ccy: balance.currency, disEq: usd.text,
                eq: equity.text, eqUsd: usd.text, frozenBal: frozen.text, ordFrozen: frozen.text, uTime: String(balance.updatedAt))
        }
        totalEq = total.text
        uTime = String(now)
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
