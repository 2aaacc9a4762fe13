import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// `GET /api/v5/account/bills` (7 days), `account/bills-archive` (3 months) and `account/trade-fee` (read
/// permission).
struct BillRoutes {
    let clock: any WallClock
    let ledger: LedgerService
    let fees: FeeService
    let engine: MatchingEngine

    /// How far back each bill listing reaches.
    static let recent: Int64 = 7 * 86_400_000
    static let archive: Int64 = 90 * 86_400_000

    func register(read group: RouterGroup<AppRequestContext>) {
        group.get("account/bills") { request, context in
            try await bills(of: try context.requireKey().account, query: request.uri.query, reach: Self.recent)
        }
        group.get("account/bills-archive") { request, context in
            try await bills(of: try context.requireKey().account, query: request.uri.query, reach: Self.archive)
        }
        group.get("account/trade-fee") { request, context in
            try await tradeFee(of: try context.requireKey().account, query: request.uri.query)
        }
    }

    /// One row per change of a trading balance, newest first, filtered as OKX documents (`instType`, `instId`,
    /// `ccy`, `mgnMode`, `type`, `subType`, `after`/`before` bill ids, `begin`/`end`, `limit` up to 100).
    func bills(of account: Account, query: String?, reach: Int64) async throws(OKXError) -> OKXResponse<BillItem> {
        let params = OKXParameters(query: query)
        let instrumentType = params.optional("instType")
        if let instrumentType, !FeeSchedule.instrumentTypes.contains(instrumentType) { throw OKXError.parameterError("instType") }
        let mode = params.optional("mgnMode")
        if let mode, !["isolated", "cross"].contains(mode) { throw OKXError.parameterError("mgnMode") }
        var billQuery = BillQuery(
            currency: params.optional("ccy")?.uppercased(), instrument: params.optional("instId"), instrumentType: instrumentType,
            type: params.optional("type"), subType: params.optional("subType"), page: try params.page(reach: reach, now: clock.milliseconds))
        billQuery.marginMode = mode
        let found = try await ledger.bills(of: account, matching: billQuery)
        let scales = try await ledger.currencies().scales
        let instruments = Dictionary(try await engine.allInstruments().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return OKXResponse(found.map { BillItem($0, scale: scales[$0.currency] ?? 8, instrument: $0.instrument.flatMap { instruments[$0] }) })
    }

    /// The caller's fee level and rates for `instType` (required), optionally of one spot `instId`; `uly`,
    /// `instFamily` and `groupId` are accepted and change nothing (one rate per instrument type here).
    func tradeFee(of account: Account, query: String?) async throws(OKXError) -> OKXResponse<TradeFeeItem> {
        let params = OKXParameters(query: query)
        let type = try params.required("instType")
        guard FeeSchedule.instrumentTypes.contains(type) else { throw OKXError.parameterError("instType") }
        if let id = params.optional("instId") {
            guard type == "SPOT" || type == "MARGIN" else {
                throw OKXError.parameterError("instId").with(message: "Parameter instId error: instId is for SPOT and MARGIN; use instFamily")
            }
            _ = try await engine.instrument(id)
        }
        let schedule = fees.current
        return OKXResponse([
            TradeFeeItem(
                level: schedule.level(of: account.uid), type: type, rates: schedule.rates(account: account.uid, instrumentType: type),
                now: clock.milliseconds)
        ])
    }
}

/// An `account/bills` row.
struct BillItem: Encodable, Sendable {
    let bal: String
    let balChg: String
    let billId: String
    let ccy: String
    let clOrdId: String
    let execType: String
    let fee: String
    let fillTime: String
    let from: String
    let instId: String
    let instType: String
    let interest = "0"
    let mgnMode: String
    let notes: String
    let ordId: String
    let pnl: String
    let posBal = "0"
    let posBalChg = "0"
    let px: String
    let subType: String
    let sz: String
    let tag: String
    let to: String
    let tradeId: String
    let ts: String
    let type: String

    init(_ bill: Bill, scale: Int, instrument: Instrument?) {
        func amount(_ units: Int128) -> String { Amount.text(units: units, scale: scale) }
        let isTrade = bill.type == "2"
        bal = amount(Int128(bill.balance))
        balChg = amount(Int128(bill.change))
        billId = String(bill.id)
        ccy = bill.currency
        clOrdId = bill.clientOrderID
        execType = bill.taker.map { $0 ? "T" : "M" } ?? ""
        fee = amount(-Int128(bill.fee))
        fillTime = bill.fillTime.map(String.init) ?? ""
        from = bill.from?.rawValue ?? ""
        instId = bill.instrument ?? ""
        let isFunding = bill.type == "8"
        instType = isTrade || isFunding ? (instrument?.type ?? .spot).rawValue : ""
        mgnMode = isTrade ? (bill.marginMode.isEmpty ? "cash" : bill.marginMode) : ""
        pnl = amount(Int128(bill.pnl))
        switch (bill.from, bill.to) {
        case (.funding?, .trading?): notes = "From Funding Account"
        case (.trading?, .funding?): notes = "To Funding Account"
        default: notes = ""
        }
        ordId = bill.orderID.map(String.init) ?? ""
        px = zip(bill.price, instrument).map { Amount(units: $0, scale: $1.tickSize.scale).text } ?? ""
        subType = bill.subType
        // A trade's size is what changed hands in this currency before the fee; a transfer's is signed, as OKX's.
        sz = isTrade ? amount(abs(Int128(bill.change) + Int128(bill.fee))) : balChg
        tag = bill.tag
        to = bill.to?.rawValue ?? ""
        tradeId = bill.tradeID.map(String.init) ?? ""
        ts = String(bill.time)
        type = bill.type
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// An `account/trade-fee` item: OKX's negative rates (a charge), the same in the USDT-pair fields and the
/// USDT-margined ones as in `maker`/`taker` (Keysmith has one rate per instrument type).
struct TradeFeeItem: Encodable, Sendable {
    let category = "1"
    let delivery = ""
    let exercise = ""
    let feeGroup: [FeeGroup]
    let fiat: [String] = []
    let instType: String
    let level: String
    let maker: String
    let makerU: String
    let makerUSDC: String
    let ruleType = "normal"
    let taker: String
    let takerU: String
    let takerUSDC: String
    let ts: String

    struct FeeGroup: Encodable, Sendable {
        let groupId = "1"
        let maker: String
        let taker: String
    }

    init(level: String, type: String, rates: FeeRates, now: Int64) {
        let derivative = type == "SWAP" || type == "FUTURES"
        self.level = level
        instType = type
        maker = rates.maker.text
        taker = rates.taker.text
        makerU = derivative ? maker : ""
        takerU = derivative ? taker : ""
        makerUSDC = maker
        takerUSDC = taker
        feeGroup = [FeeGroup(maker: maker, taker: taker)]
        ts = String(now)
    }
}
