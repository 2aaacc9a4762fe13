import KeysmithApp
import KeysmithCore

// The typed requests of the money-moving endpoints, read from their OKX parameters. The routes build them here (and
// nowhere else), so what reads a request body can be exercised on its own.

extension OrderRequest {
    /// A `trade/order` body or one element of `batch-orders`: 50014 for a missing field, 51000 for a bad `clOrdId`.
    /// Sizes and prices stay text; the matching engine reads them with the instrument's scales.
    public init(parameters params: OKXParameters) throws(OKXError) {
        // Take-profit, stop-loss and other attached orders are refused rather than dropped: an order placed without
        // the protection its caller asked for is worse than none.
        for name in Self.unsupported where params.sent(name) {
            throw OKXError.parameterError(name).with(
                message: "Parameter \(name) error: Keysmith does not place take-profit, stop-loss or other attached orders")
        }
        let clientOrderID = try params.clientIdentifier("clOrdId")
        let reduceOnly = try params.flag("reduceOnly")
        self.init(
            instrument: try params.required("instId"), tradeMode: try params.required("tdMode"), side: try params.required("side"),
            type: try params.required("ordType"), size: try params.required("sz"), price: params.optional("px"),
            clientOrderID: clientOrderID, tag: String((params.optional("tag") ?? "").prefix(16)), targetCurrency: params.optional("tgtCcy"),
            positionSide: params.optional("posSide"), reduceOnly: reduceOnly)
    }

    /// OKX order parameters for attached algo orders, which Keysmith's book does not take.
    static let unsupported = ["attachAlgoOrds", "tpTriggerPx", "tpOrdPx", "slTriggerPx", "slOrdPx"]
}

extension AmendRequest {
    /// A `trade/amend-order` body or one element of `amend-batch-orders`: 50014 without `instId`, 51000 for a bad
    /// `reqId` or `cxlOnFail`. Sizes and prices stay text; the matching engine reads them with the instrument's scales.
    public init(parameters params: OKXParameters) throws(OKXError) {
        for name in Self.unsupported where params.sent(name) {
            throw OKXError.parameterError(name).with(
                message: "Parameter \(name) error: Keysmith does not amend take-profit, stop-loss or option prices")
        }
        self.init(
            instrument: try params.required("instId"), orderID: params.optional("ordId"), clientOrderID: params.optional("clOrdId"),
            newSize: params.optional("newSz"), newPrice: params.optional("newPx"), cancelOnFail: try params.flag("cxlOnFail"),
            requestID: try params.clientIdentifier("reqId"))
    }

    /// Amendments of what Keysmith's book does not hold: attached algo orders, option prices.
    static let unsupported = [
        "attachAlgoOrds", "newTpTriggerPx", "newTpOrdPx", "newSlTriggerPx", "newSlOrdPx", "newTpOrdKind", "newTriggerPx", "newOrdPx",
        "newPxUsd", "newPxVol",
    ]
}

extension TransferRequest {
    /// An `asset/transfer` body: 50014 for a missing field, 51000 for a bad `clientId`. ``LedgerService`` checks the rest.
    public init(parameters params: OKXParameters) throws(OKXError) {
        self.init(
            type: params.optional("type") ?? "0", currency: try params.required("ccy"), amount: try params.required("amt"),
            from: try params.required("from"), to: try params.required("to"), subAccount: params.optional("subAcct"),
            clientID: try params.clientIdentifier("clientId"))
    }
}

extension WithdrawalRequest {
    /// An `asset/withdrawal` body: 50014 for a missing field, 51000 for a bad `clientId`. ``WithdrawalService`` checks the rest.
    public init(parameters params: OKXParameters) throws(OKXError) {
        self.init(
            currency: try params.required("ccy"), amount: try params.required("amt"), address: try params.required("toAddr"),
            destination: params.optional("dest"), chain: params.optional("chain"), fee: params.optional("fee"),
            clientID: try params.clientIdentifier("clientId"))
    }
}

extension OKXParameters {
    /// A boolean flag: ccxt sends it as a JSON boolean, python-okx as "true" or "" (absent); false when absent.
    func flag(_ name: String) throws(OKXError) -> Bool {
        switch optional(name) {
        case nil, "false": return false
        case "true": return true
        default: throw OKXError.parameterError(name).with(message: "Parameter \(name) error: true or false")
        }
    }
}
