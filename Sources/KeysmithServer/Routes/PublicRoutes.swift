import Hummingbird
import KeysmithApp
import KeysmithCore

/// Public market-data and system endpoints: no authentication.
struct PublicRoutes {
    let clock: any WallClock
    let ledger: LedgerService

    /// Instrument types OKX has; Keysmith lists SPOT and SWAP and answers the others with an empty list (any error
    /// there would break ccxt's `load_markets`, which asks for all of them).
    static let instrumentTypes: Set<String> = ["SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"]

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("public/time") { _, _ in
            // A fixed shape with only digits inside: filled in, not encoded.
            OKXBody(ByteBuffer(string: #"{"code":"0","msg":"","data":[{"ts":"\#(clock.milliseconds)"}]}"#))
        }
        group.get("public/instruments") { request, _ in
            let params = OKXParameters(query: request.uri.query)
            let type = try params.required("instType")
            guard Self.instrumentTypes.contains(type) else { throw OKXError.parameterError("instType") }
            var instruments = try await ledger.instruments().filter { $0.type.rawValue == type }
            if let id = params.optional("instId") { instruments = instruments.filter { $0.id == id } }
            if type == InstrumentType.swap.rawValue {
                if let family = params.optional("instFamily") ?? params.optional("uly") {
                    instruments = instruments.filter { $0.family == family }
                }
                return OKXBody(try OKXResponse(instruments.map(SwapInstrumentItem.init)).body())
            }
            return OKXBody(try OKXResponse(instruments.map(InstrumentItem.init)).body())
        }
    }
}

/// A SPOT `public/instruments` item with the fields ccxt's `parse_market` reads.
struct InstrumentItem: Encodable, Sendable {
    let alias = ""
    let baseCcy: String
    let category = "1"
    let ctMult = ""
    let ctType = ""
    let ctVal = ""
    let ctValCcy = ""
    let expTime = ""
    let instFamily = ""
    let instId: String
    let instType = "SPOT"
    let lever = ""
    let listTime: String
    let lotSz: String
    let maxLmtSz: String
    let maxMktSz: String
    let minSz: String
    let optType = ""
    let quoteCcy: String
    let settleCcy = ""
    let state = "live"
    let stk = ""
    let tickSz: String
    let uly = ""

    init(_ instrument: Instrument) {
        baseCcy = instrument.base
        instId = instrument.id
        listTime = String(instrument.listedAt)
        lotSz = instrument.lotSize.text
        maxLmtSz = instrument.maximumLimitSize.text
        maxMktSz = instrument.maximumMarketSize.text
        minSz = instrument.minimumSize.text
        quoteCcy = instrument.quote
        tickSz = instrument.tickSize.text
    }
}

/// A SWAP `public/instruments` item with every field OKX returns for a linear perpetual (`baseCcy`/`quoteCcy` are
/// empty: ccxt reads the pair from `uly`; sizes count contracts).
struct SwapInstrumentItem: Encodable, Sendable {
    let alias = ""
    let auctionEndTime = ""
    let baseCcy = ""
    let category = "1"
    let contTdSwTime: String
    let ctMult = "1"
    let ctType = "linear"
    let ctVal: String
    let ctValCcy: String
    let expTime = ""
    let freq = ""
    let futureSettlement = false
    let groupId = "4"
    let instCategory = "1"
    let instFamily: String
    let instId: String
    let instType = "SWAP"
    let lever: String
    let listTime: String
    let lotSz: String
    let maxIcebergSz = "100000000.0000000000000000"
    let maxLmtAmt = "20000000"
    let maxLmtSz: String
    let maxMktAmt = ""
    let maxMktSz: String
    let maxStopSz: String
    let maxTriggerSz = "100000000.0000000000000000"
    let maxTwapSz = "100000000.0000000000000000"
    let method = ""
    let minSz: String
    let openType = ""
    let optType = ""
    let preMktSwTime = ""
    let quoteCcy = ""
    let ruleType = "normal"
    let seriesId = ""
    let settleCcy: String
    let state = "live"
    let stk = ""
    let tickSz: String
    let tradeQuoteCcyList: [String] = []
    let uly: String
    let upcChg: [String] = []

    init(_ instrument: Instrument) {
        contTdSwTime = String(instrument.listedAt)
        ctVal = instrument.contract?.value.text ?? ""
        ctValCcy = instrument.base
        instFamily = instrument.family
        instId = instrument.id
        lever = String(instrument.contract?.maximumLeverage ?? 0)
        listTime = String(instrument.listedAt)
        lotSz = instrument.lotSize.text
        maxLmtSz = instrument.maximumLimitSize.text
        maxMktSz = instrument.maximumMarketSize.text
        maxStopSz = instrument.maximumMarketSize.text
        minSz = instrument.minimumSize.text
        settleCcy = instrument.quote
        tickSz = instrument.tickSize.text
        uly = instrument.family
    }
}
