import KeysmithApp
import KeysmithCore

/// A place/cancel answer item: `ordId`, `clOrdId`, `tag`, `ts`, `sCode`, `sMsg`.
struct OrderReceipt: Encodable, Sendable {
    let clOrdId: String
    let ordId: String
    let sCode: String
    let sMsg: String
    let tag: String
    let ts: String

    init(_ outcome: OrderOutcome, now: Int64) {
        switch outcome {
        case .placed(let order):
            clOrdId = order.clientOrderID
            ordId = String(order.id)
            sCode = "0"
            sMsg = "Order placed"
            tag = order.tag
        case .refused(let error, let clientOrderID, let tag):
            clOrdId = clientOrderID
            ordId = ""
            sCode = error.code
            sMsg = error.message
            self.tag = tag
        }
        ts = String(now)
    }

    init(canceled order: Order, now: Int64) {
        clOrdId = order.clientOrderID
        ordId = String(order.id)
        sCode = "0"
        sMsg = ""
        tag = order.tag
        ts = String(now)
    }
}

/// One item of a `trade/amend-order` or `amend-batch-orders` answer: the order it named (as sent when none was
/// found), the caller's `reqId`, and `sCode` 0 or the error that refused it.
struct AmendReceipt: Encodable, Sendable {
    let clOrdId: String
    let ordId: String
    let reqId: String
    let sCode: String
    let sMsg: String
    let ts: String

    init(_ outcome: AmendOutcome, request: AmendRequest, now: Int64) {
        reqId = request.requestID
        ts = String(now)
        switch outcome {
        case .amended(let order):
            (clOrdId, ordId, sCode, sMsg) = (order.clientOrderID, String(order.id), "0", "")
        case .refused(let error, let order, _):
            clOrdId = order?.clientOrderID ?? request.clientOrderID ?? ""
            ordId = order.map { String($0.id) } ?? request.orderID ?? ""
            (sCode, sMsg) = (error.code, error.message)
        }
    }

    init(refused error: OKXError, parameters params: OKXParameters, now: Int64) {
        clOrdId = params.optional("clOrdId") ?? ""
        ordId = params.optional("ordId") ?? ""
        reqId = params.optional("reqId") ?? ""
        (sCode, sMsg, ts) = (error.code, error.message, String(now))
    }
}

/// An order as `trade/order`, `orders-pending` and `orders-history` describe it.
struct OrderItem: Encodable, Sendable {
    let accFillSz: String
    let avgPx: String
    let cTime: String
    let cancelSource: String
    let category = "normal"
    let ccy = ""
    let clOrdId: String
    /// Fees charged so far, negative (OKX's sign for a charge), in `feeCcy`: what the order receives.
    let fee: String
    let feeCcy: String
    /// The latest fill's price, size and time ("" until it fills).
    let fillPx: String
    let fillSz: String
    let fillTime: String
    let instId: String
    let instType: String
    let lever: String
    let ordId: String
    let ordType: String
    let pnl = "0"
    let posSide: String
    let px: String
    let rebate = "0"
    let rebateCcy: String
    let reduceOnly: String
    let side: String
    let source = ""
    let state: String
    let sz: String
    let tag: String
    let tdMode: String
    let tgtCcy: String
    let tradeId: String
    let uTime: String

    init(_ order: Order, instrument: Instrument) {
        let sizeScale = order.targetCurrency == "quote_ccy" ? instrument.quoteScale : instrument.lotSize.scale
        accFillSz = Amount(units: order.filled, scale: instrument.lotSize.scale).text
        avgPx = instrument.averagePrice(of: order)
        cTime = String(order.createdAt)
        cancelSource = order.state == .canceled ? "1" : ""
        clOrdId = order.clientOrderID
        // Spot fees are in what the order receives; SWAP fees in the settlement currency.
        let receivesBase = order.side == .buy && order.swap == nil
        feeCcy = receivesBase ? instrument.base : instrument.quote
        fee = Amount.text(units: -Int128(order.fee), scale: receivesBase ? instrument.baseScale : instrument.quoteScale)
        instType = instrument.type.rawValue
        lever = order.swap?.leverage.description ?? ""
        posSide = order.swap?.positionSide.rawValue ?? ""
        reduceOnly = order.swap?.reduceOnly == true ? "true" : "false"
        tdMode = order.tradeMode
        fillPx = order.lastFill.map { Amount(units: $0.price, scale: instrument.tickSize.scale).text } ?? ""
        fillSz = order.lastFill.map { Amount(units: $0.size, scale: instrument.lotSize.scale).text } ?? ""
        fillTime = order.lastFill.map { String($0.time) } ?? ""
        tradeId = order.lastFill.map { String($0.tradeID) } ?? ""
        instId = order.instrument
        ordId = String(order.id)
        ordType = order.type.rawValue
        px = order.price.map { Amount(units: $0, scale: instrument.tickSize.scale).text } ?? ""
        rebateCcy = order.swap != nil || receivesBase ? instrument.quote : instrument.base
        side = order.side.rawValue
        state = order.state.rawValue
        sz = Amount(units: order.size, scale: sizeScale).text
        tag = order.tag
        tgtCcy = order.type == .market ? order.targetCurrency : ""
        uTime = String(order.updatedAt)
    }
}

/// A `trade/fills` item, from the caller's side.
struct FillItem: Encodable, Sendable {
    let billId: String
    let clOrdId: String
    let execType: String
    /// This side's fee, negative for a charge, in `feeCcy` (the currency it received), and its rate.
    let fee: String
    let feeCcy: String
    let feeRate: String
    /// The same fee under the names of OKX's WebSocket `orders` channel, for clients that read those.
    let fillFee: String
    let fillFeeCcy: String
    /// SWAP fills: the profit or loss this side's position realised by what the fill closed.
    let fillPnl: String
    let fillPx: String
    let fillSz: String
    let fillTime: String
    let instId: String
    let instType: String
    let ordId: String
    let posSide: String
    let side: String
    /// `1` buy, `2` sell (this side's).
    let subType: String
    let tag: String
    let tradeId: String
    let tradeQuoteCcy: String
    let ts: String

    /// `order`: the caller's order the listing was asked for, which picks the side of a fill between two of the
    /// caller's own orders.
    init(_ fill: Fill, account: String, instrument: Instrument, order: Int64? = nil) {
        let makerAsked = order != nil && fill.makerOrder == order && fill.makerAccount == account
        let taker = fill.takerAccount == account && !makerAsked
        let side = taker ? fill.side : fill.side.opposite
        billId = String(fill.tradeID)
        execType = taker ? "T" : "M"
        let receivesBase = side == .buy && instrument.type == .spot
        feeCcy = receivesBase ? instrument.base : instrument.quote
        fee = Amount.text(
            units: -Int128(taker ? fill.takerFee : fill.makerFee), scale: receivesBase ? instrument.baseScale : instrument.quoteScale)
        instType = instrument.type.rawValue
        fillPnl = Amount.text(units: Int128(taker ? fill.takerPnl : fill.makerPnl), scale: instrument.quoteScale)
        let positionSide = taker ? fill.takerPositionSide : fill.makerPositionSide
        posSide = positionSide.isEmpty ? "net" : positionSide
        feeRate = (taker ? fill.takerFeeRate : fill.makerFeeRate).text
        fillFee = fee
        fillFeeCcy = feeCcy
        clOrdId = taker ? fill.takerClientOrderID : fill.makerClientOrderID
        tag = taker ? fill.takerTag : fill.makerTag
        subType = side == .buy ? "1" : "2"
        tradeQuoteCcy = instrument.quote
        fillPx = Amount(units: fill.price, scale: instrument.tickSize.scale).text
        fillSz = Amount(units: fill.size, scale: instrument.lotSize.scale).text
        fillTime = String(fill.time)
        instId = fill.instrument
        ordId = String(taker ? fill.takerOrder : fill.makerOrder)
        self.side = side.rawValue
        tradeId = String(fill.tradeID)
        ts = String(fill.time)
    }
}
