import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// `GET /api/v5/account/positions` and `account/positions-history` (read permission): the account's perpetual
/// positions valued at the mark price, and those it closed.
struct PositionRoutes {
    let engine: MatchingEngine
    let marks: MarkPriceService
    let clock: any WallClock

    func register(read group: RouterGroup<AppRequestContext>) {
        group.get("account/positions") { request, context in
            let cached = try context.requireKey()
            return try await positions(of: cached.account, OKXParameters(query: request.uri.query))
        }
        group.get("account/positions-history") { request, context in
            let cached = try context.requireKey()
            return try await history(of: cached.account, OKXParameters(query: request.uri.query))
        }
    }

    /// `instType` (SWAP, or absent: the account holds no other derivatives), `instId` and `posId` comma lists.
    private func positions(of account: Account, _ params: OKXParameters) async throws(OKXError) -> OKXResponse<PositionItem> {
        try Self.checkType(params)
        let instruments = params.optional("instId").map { Set($0.split(separator: ",").map(String.init)) }
        let ids = params.optional("posId").map { Set($0.split(separator: ",").map(String.init)) }
        guard (instruments?.count ?? 0) <= 10, (ids?.count ?? 0) <= 20 else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: at most 10 instruments and 20 posIds")
        }
        return OKXResponse(try await positionItems(of: account) { position in
            (instruments?.contains(position.key.instrument) ?? true) && (ids?.contains(String(position.id)) ?? true)
        })
    }

    /// The account's open positions that `included` selects, valued at the mark.
    func positionItems(of account: Account, where included: (Position) -> Bool = { _ in true }) async throws(OKXError) -> [PositionItem] {
        var items: [PositionItem] = []
        for (position, pending) in try await engine.openPositions(of: account.uid) where included(position) {
            let inst = try await engine.instrument(position.key.instrument)
            let mark = try await marks.mark(of: inst).flatMap { $0.rescaled(to: inst.tickSize.scale) }
            items.append(PositionItem(position, pending: pending, instrument: inst, mark: mark, now: clock.milliseconds))
        }
        return items
    }

    /// The account's open positions of `instrument` (all when nil).
    func positionItems(of account: Account, instrument: String?) async throws(OKXError) -> [PositionItem] {
        try await positionItems(of: account) { instrument == nil || $0.key.instrument == instrument }
    }

    private func history(of account: Account, _ params: OKXParameters) async throws(OKXError) -> OKXResponse<PositionHistoryItem> {
        try Self.checkType(params)
        let page = try params.page(now: clock.milliseconds)
        var items: [PositionHistoryItem] = []
        for record in try await engine.positionHistory(of: account.uid, instrument: params.optional("instId"), page: page) {
            let inst = try await engine.instrument(record.closed.position.key.instrument)
            items.append(PositionHistoryItem(record, instrument: inst))
        }
        return OKXResponse(items)
    }

    private static func checkType(_ params: OKXParameters) throws(OKXError) {
        if let type = params.optional("instType"), !["SWAP", "MARGIN", "FUTURES", "OPTION"].contains(type) {
            throw OKXError.parameterError("instType").with(message: "Parameter instType error: MARGIN, SWAP, FUTURES or OPTION")
        }
    }
}

/// Decimal text of `numerator ÷ denominator` to `scale` decimals, toward zero ("" when the denominator is 0).
func ratioText(_ numerator: Int128, _ denominator: Int128, scale: Int = 4) -> String {
    guard denominator != 0 else { return "" }
    var scaled = numerator
    for _ in 0..<scale {
        let (next, overflow) = scaled.multipliedReportingOverflow(by: 10)
        guard !overflow else { return "" }
        scaled = next
    }
    return Amount.text(units: scaled / denominator, scale: scale)
}

/// An `account/positions` item. Money is in USDT (the settlement currency); fees are negative for a charge, as OKX
/// writes them; `upl`, `notionalUsd`, `imr`, `mmr` and `mgnRatio` are at the mark price ("" while there is none).
struct PositionItem: Encodable, Sendable {
    let adl = "1"
    let availPos: String
    let avgPx: String
    let bePx = ""
    let cTime: String
    let ccy: String
    let closeOrderAlgo: [String] = []
    let fee: String
    let fundingFee: String
    let idxPx = ""
    let imr: String
    let instId: String
    let instType = "SWAP"
    let interest = ""
    let last = ""
    let lever: String
    let liab = ""
    let liabCcy = ""
    /// The mark price at which the server liquidates the position.
    let liqPx: String
    let margin: String
    let markPx: String
    let mgnMode: String
    let mgnRatio: String
    let mmr: String
    let notionalUsd: String
    let optVal = ""
    let pendingCloseOrdLiabVal = ""
    let pnl: String
    let pos: String
    let posCcy = ""
    let posId: String
    let posSide: String
    let quoteBal = ""
    let realizedPnl: String
    let tradeId: String
    let uTime: String
    let upl: String
    let uplLastPx = ""
    let uplRatio: String
    let uplRatioLastPx = ""
    let usdPx = ""

    init(_ position: Position, pending: Int64, instrument inst: Instrument, mark: Amount?, now: Int64) {
        let money = { (units: Int128) in Amount.text(units: units, scale: inst.quoteScale) }
        let lots = { (units: Int64) in Amount(units: units, scale: inst.lotSize.scale).text }
        availPos = lots(max(0, position.magnitude - pending))
        avgPx = inst.averagePrice(value: position.openValue, filled: position.magnitude)
        cTime = String(position.createdAt)
        ccy = inst.quote
        fee = money(-Int128(position.fee))
        fundingFee = money(Int128(position.fundingFee))
        instId = position.key.instrument
        lever = position.leverage.description
        liqPx = position.liquidationPrice(instrument: inst) {
            PositionTiers.maintenance(of: inst, size: position.magnitude, notional: $0)
        }.map { Amount(units: $0, scale: inst.tickSize.scale).text } ?? ""
        margin = position.key.marginMode == .isolated ? money(Int128(position.margin)) : ""
        markPx = mark?.text ?? ""
        mgnMode = position.key.marginMode.rawValue
        pnl = money(Int128(position.realizedPnl))
        pos = lots(position.size)
        posId = String(position.id)
        posSide = position.key.side.rawValue
        realizedPnl = money(Int128(position.realizedPnl) - Int128(position.fee) + Int128(position.fundingFee))
        tradeId = String(position.lastTrade)
        uTime = String(position.updatedAt)
        guard let mark, let valued = PositionValuation(position, instrument: inst, mark: mark) else {
            (imr, mmr, mgnRatio, notionalUsd, upl, uplRatio) = ("", "", "", "", "", "")
            return
        }
        imr = money(Int128(valued.initial))
        mmr = money(Int128(valued.maintenance))
        notionalUsd = money(Int128(valued.notional))
        upl = money(Int128(valued.profit))
        uplRatio = ratioText(Int128(valued.profit), Int128(position.margin))
        mgnRatio = ratioText(Int128(position.margin) + Int128(valued.profit), Int128(valued.maintenance), scale: 2)
    }
}

/// A position valued at the mark price, in settlement units: its unrealised profit or loss, its notional value,
/// the initial margin at its leverage and the maintenance margin of its tier (rounded up).
struct PositionValuation {
    let profit: Int64
    let notional: Int64
    let initial: Int64
    let maintenance: Int64

    /// Nil when an amount does not fit 64 bits. `mark` is at the instrument's tick scale.
    init?(_ position: Position, instrument inst: Instrument, mark: Amount) {
        let markValue = Int128(mark.units) * Int128(position.magnitude)
        guard let profit = inst.settlementUnits(Int128(position.direction) * (markValue - Int128(position.openValue)), roundingUp: false),
            let notional = inst.settlementUnits(markValue, roundingUp: false),
            let initial = inst.margin(value: markValue, leverage: position.leverage)
        else { return nil }
        self.profit = profit
        self.notional = notional
        self.initial = initial
        maintenance = PositionTiers.maintenance(of: inst, size: position.magnitude, notional: notional)
    }
}

/// An `account/positions-history` item: a position from its first contract to its last.
struct PositionHistoryItem: Encodable, Sendable {
    let cTime: String
    let ccy: String
    let closeAvgPx: String
    let closeTotalPos: String
    let direction: String
    let fee: String
    let fundingFee: String
    let instId: String
    let instType = "SWAP"
    let lever: String
    let liqPenalty = "0"
    let mgnMode: String
    let openAvgPx: String
    let openMaxPos: String
    let pnl: String
    let pnlRatio: String
    let posId: String
    let posSide: String
    let realizedPnl: String
    let triggerPx = ""
    let type: String
    let uTime: String
    let uly: String

    init(_ record: PositionRecord, instrument inst: Instrument) {
        let position = record.closed.position
        let money = { (units: Int128) in Amount.text(units: units, scale: inst.quoteScale) }
        cTime = String(position.createdAt)
        ccy = inst.quote
        closeAvgPx = inst.averagePrice(value: position.closedValue, filled: position.closed)
        closeTotalPos = Amount(units: position.closed, scale: inst.lotSize.scale).text
        direction = record.closed.long ? "long" : "short"
        fee = money(-Int128(position.fee))
        fundingFee = money(Int128(position.fundingFee))
        instId = position.key.instrument
        lever = position.leverage.description
        mgnMode = position.key.marginMode.rawValue
        openAvgPx = inst.averagePrice(value: position.openedValue, filled: position.opened)
        openMaxPos = Amount(units: position.maximumSize, scale: inst.lotSize.scale).text
        pnl = money(Int128(position.realizedPnl))
        // The profit over the margin the largest position held at its leverage (at the average opening price).
        let largest = position.opened > 0 ? Int128(position.openedValue) * Int128(position.maximumSize) / Int128(position.opened) : 0
        let margin = inst.margin(value: largest, leverage: position.leverage) ?? 0
        pnlRatio = ratioText(Int128(position.realizedPnl), Int128(margin))
        posId = String(position.id)
        posSide = position.key.side.rawValue
        realizedPnl = money(Int128(position.realizedPnl) - Int128(position.fee) + Int128(position.fundingFee))
        type = String(record.type)
        uTime = String(position.updatedAt)
        uly = "\(inst.base)-\(inst.quote)"
    }
}
