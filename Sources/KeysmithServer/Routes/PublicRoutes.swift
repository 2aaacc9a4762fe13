import Hummingbird
import KeysmithApp
import KeysmithCore

/// Public market-data and system endpoints: no authentication.
struct PublicRoutes {
    let clock: any WallClock
    let ledger: LedgerService

    /// Instrument types OKX has; Keysmith lists SPOT and answers the others with an empty list (any error there
    /// would break ccxt's `load_markets`).
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
            guard type == "SPOT" else { return OKXResponse<InstrumentItem>([]) }
            var instruments = try await ledger.instruments()
            if let id = params.optional("instId") { instruments = instruments.filter { $0.id == id } }
            return OKXResponse(instruments.map(InstrumentItem.init))
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
