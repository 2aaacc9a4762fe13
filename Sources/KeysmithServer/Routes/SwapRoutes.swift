import Hummingbird
import KeysmithApp
import KeysmithCore

/// Account settings for perpetual swaps: `set-position-mode`, `set-account-level` and `set-leverage` (trade
/// permission), `leverage-info`, `max-size` and `max-avail-size` (read), and the public `position-tiers`,
/// `mark-price` and funding rates.
struct SwapRoutes {
    let accounts: AccountService
    let leverage: LeverageService
    let engine: MatchingEngine
    let marks: MarkPriceService
    let funding: FundingService
    let clock: any WallClock

    func register(public api: RouterGroup<AppRequestContext>, read: RouterGroup<AppRequestContext>, trade: RouterGroup<AppRequestContext>) {
        api.get("public/position-tiers") { request, _ in try await tiers(OKXParameters(query: request.uri.query)) }
        api.get("public/mark-price") { request, _ in try await markPrices(OKXParameters(query: request.uri.query)) }
        api.get("public/funding-rate") { request, _ in
            let swap = try await swap(try OKXParameters(query: request.uri.query).required("instId"))
            return OKXResponse([FundingRateItem(try await funding.quote(swap), now: clock.milliseconds)])
        }
        api.get("public/funding-rate-history") { request, _ in
            let params = OKXParameters(query: request.uri.query)
            let swap = try await swap(try params.required("instId"))
            let settlements = try await funding.history(swap, page: try params.page(maximum: 400, now: clock.milliseconds))
            return OKXResponse(settlements.map { FundingHistoryItem($0) })
        }
        api.get("market/mark-price-candles") { request, _ in try await markCandles(OKXParameters(query: request.uri.query)) }
        api.get("market/history-mark-price-candles") { request, _ in try await markCandles(OKXParameters(query: request.uri.query)) }
        trade.post("account/set-position-mode") { request, context in
            let cached = try context.requireKey()
            let params = try OKXParameters(jsonBody: context.body)
            guard let mode = PositionMode(rawValue: try params.required("posMode")) else {
                throw OKXError.parameterError("posMode").with(message: "Parameter posMode error: net_mode or long_short_mode")
            }
            let changed = try await accounts.setModes(cached.account, positionMode: mode, origin: context.auditOrigin(request))
            return OKXResponse([["posMode": changed.positionMode.rawValue]])
        }
        trade.post("account/set-account-level") { request, context in
            let cached = try context.requireKey()
            let params = try OKXParameters(jsonBody: context.body)
            guard let level = AccountLevel(rawValue: try params.required("acctLv")) else {
                throw OKXError.parameterError("acctLv").with(message: "Parameter acctLv error: 1, 2, 3 or 4")
            }
            let changed = try await accounts.setModes(cached.account, level: level, origin: context.auditOrigin(request))
            return OKXResponse([["acctLv": changed.level.rawValue]])
        }
        trade.post("trade/close-position") { request, context in
            let cached = try context.requireKey()
            let params = try OKXParameters(jsonBody: context.body)
            let order = try await engine.closePosition(
                instrument: try params.required("instId"), marginMode: try params.required("mgnMode"), positionSide: params.optional("posSide"),
                autoCancel: try params.flag("autoCxl"), clientOrderID: try params.clientIdentifier("clOrdId"),
                tag: String((params.optional("tag") ?? "").prefix(16)), key: cached.key, account: cached.account,
                origin: context.auditOrigin(request))
            return OKXResponse([
                ClosePositionItem(
                    clOrdId: order.clientOrderID, instId: order.instrument, posSide: order.swap?.positionSide.rawValue ?? "net", tag: order.tag)
            ])
        }
        trade.post("account/set-leverage") { request, context in
            let cached = try context.requireKey()
            let params = try OKXParameters(jsonBody: context.body)
            let instrument = try await swap(try params.required("instId"))
            let setting = try await leverage.set(
                try params.required("lever"), instrument: instrument, marginMode: try params.required("mgnMode"),
                positionSide: params.optional("posSide"), account: cached.account, origin: context.auditOrigin(request))
            return OKXResponse([
                LeverageItem(
                    instId: setting.instrument, lever: setting.leverage.description, mgnMode: setting.marginMode.rawValue,
                    posSide: setting.side?.rawValue ?? "")
            ])
        }
        read.get("account/max-size") { request, context in
            let cached = try context.requireKey()
            let params = OKXParameters(query: request.uri.query)
            let mode = try params.required("tdMode")
            let instruments = try await orderInstruments(params)
            // As OKX: a price applies to a single instrument only.
            let price = instruments.count == 1 ? params.optional("px") : nil
            var items: [MaxSizeItem] = []
            for inst in instruments {
                let size = try await engine.maximumSize(inst, tradeMode: mode, price: price, leverage: params.optional("leverage"), account: cached.account)
                items.append(MaxSizeItem(ccy: size.currency, instId: inst.id, maxBuy: size.buy.text, maxSell: size.sell.text))
            }
            return OKXResponse(items)
        }
        read.get("account/max-avail-size") { request, context in
            let cached = try context.requireKey()
            let params = OKXParameters(query: request.uri.query)
            let mode = try params.required("tdMode")
            _ = try params.flag("reduceOnly")
            var items: [MaxAvailableItem] = []
            for inst in try await orderInstruments(params) {
                let available = try await engine.availableForOrders(inst, tradeMode: mode, account: cached.account)
                items.append(MaxAvailableItem(availBuy: available.buy.text, availSell: available.sell.text, instId: inst.id))
            }
            return OKXResponse(items)
        }
        read.get("account/leverage-info") { request, context in
            let cached = try context.requireKey()
            let params = OKXParameters(query: request.uri.query)
            guard let mode = MarginMode(rawValue: try params.required("mgnMode")) else {
                throw OKXError.parameterError("mgnMode").with(message: "Parameter mgnMode error: cross or isolated")
            }
            let ids = try params.required("instId").split(separator: ",").map(String.init)
            guard ids.count <= 20 else { throw OKXError.parameterError("instId").with(message: "Parameter instId error: at most 20") }
            let settings = try await leverage.settings(of: cached.account)
            var items: [LeverageItem] = []
            for id in ids {
                let instrument = try await swap(id)
                // One row per position side the account can hold: net, or long and short.
                let sides: [PositionSide] = cached.account.positionMode == .net ? [.net] : [.long, .short]
                for side in sides {
                    let lever = settings.leverage(instrument: instrument.id, marginMode: mode, side: side)
                    items.append(LeverageItem(instId: instrument.id, lever: lever.description, mgnMode: mode.rawValue, posSide: side.rawValue))
                }
            }
            return OKXResponse(items)
        }
    }

    /// The instruments `instId` lists (at most 5, of one instrument type, as OKX's max-size and max-avail-size take).
    private func orderInstruments(_ params: OKXParameters) async throws(OKXError) -> [Instrument] {
        let ids = try params.required("instId").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard ids.count <= 5 else { throw OKXError.parameterError("instId").with(message: "Parameter instId error: at most 5") }
        var instruments: [Instrument] = []
        for id in ids { instruments.append(try await engine.instrument(id)) }
        guard Set(instruments.map(\.type)).count == 1 else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: instruments of one instrument type")
        }
        return instruments
    }

    /// A listed SWAP instrument (51001 for an unknown id, 51000 for a spot pair).
    private func swap(_ id: String) async throws(OKXError) -> Instrument {
        let instrument = try await engine.instrument(id)
        guard instrument.type == .swap else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: \(id) is not a SWAP instrument")
        }
        return instrument
    }

    /// `market/mark-price-candles` (and `history-mark-price-candles`): `[ts, o, h, l, c, confirm]` per bar, newest
    /// first, at most 100 (`limit`); `after`/`before` page by bar start. SWAP instruments only (51000 otherwise).
    private func markCandles(_ params: OKXParameters) async throws(OKXError) -> OKXResponse<[String]> {
        let swap = try await swap(try params.required("instId"))
        let barName = params.optional("bar") ?? "1m"
        guard let bar = CandleBar(barName) else {
            throw OKXError.parameterError("bar").with(
                message: "Parameter bar error: 1m 3m 5m 15m 30m 1H 2H 4H, or 6H 12H 1D 2D 3D 1W 1M 3M (Hong Kong time) and their utc forms (6Hutc…)")
        }
        let limit = try params.limit(maximum: 100)
        let after = try params.wholeNumber("after"), before = try params.wholeNumber("before")
        let now = clock.milliseconds
        let candles = try await marks.candles(swap, bar: bar, after: after, before: before, limit: limit)
        return OKXResponse(candles.map { candle in
            let price = { (units: Int64) in Amount(units: units, scale: candle.scale).text }
            return [
                String(candle.start), price(candle.open), price(candle.high), price(candle.low), price(candle.close),
                bar.end(of: candle.start) <= now ? "1" : "0",
            ]
        })
    }

    /// `public/mark-price?instType=SWAP[&instId=…][&instFamily=…]`: each perpetual's mark price (`markPx` "" while
    /// it has no index and no pin). Other instrument types list nothing here.
    private func markPrices(_ params: OKXParameters) async throws(OKXError) -> OKXResponse<MarkPriceItem> {
        // ccxt's fetch_mark_price sends only instId: its type is then the instrument's.
        let type = try params.optional("instId") == nil ? params.required("instType") : params.optional("instType") ?? "SWAP"
        guard PublicRoutes.instrumentTypes.contains(type) else { throw OKXError.parameterError("instType") }
        guard type == InstrumentType.swap.rawValue else { return OKXResponse([]) }
        var swaps = try await engine.allInstruments().filter { $0.type == .swap }
        if let id = params.optional("instId") {
            swaps = swaps.filter { $0.id == id }
            guard !swaps.isEmpty else { throw OKXError.instrumentDoesNotExist }
        }
        if let family = params.optional("instFamily") ?? params.optional("uly") { swaps = swaps.filter { $0.family == family } }
        var items: [MarkPriceItem] = []
        for swap in swaps {
            items.append(
                MarkPriceItem(instId: swap.id, markPx: try await marks.mark(of: swap)?.text ?? "", ts: String(clock.milliseconds)))
        }
        return OKXResponse(items)
    }

    /// `public/position-tiers?instType=SWAP&tdMode=cross|isolated&instFamily=BTC-USDT[,…]` (at most 5 families;
    /// `uly` is the older name), optionally one `tier`. Other instrument types have no tiers here.
    private func tiers(_ params: OKXParameters) async throws(OKXError) -> OKXResponse<TierItem> {
        let type = try params.required("instType")
        guard PublicRoutes.instrumentTypes.contains(type) else { throw OKXError.parameterError("instType") }
        guard MarginMode(rawValue: try params.required("tdMode")) != nil else {
            throw OKXError.parameterError("tdMode").with(message: "Parameter tdMode error: cross or isolated")
        }
        guard type == InstrumentType.swap.rawValue else { return OKXResponse([]) }
        guard let list = params.optional("instFamily") ?? params.optional("uly") else { throw OKXError.parameterEmpty("instFamily") }
        let families = list.split(separator: ",").map(String.init)
        guard families.count <= 5 else { throw OKXError.parameterError("instFamily").with(message: "Parameter instFamily error: at most 5") }
        let wanted = try params.optional("tier").map { text throws(OKXError) in
            guard let tier = Int(text), tier > 0 else { throw OKXError.parameterError("tier") }
            return tier
        }
        let swaps = try await engine.allInstruments().filter { $0.type == .swap }
        var items: [TierItem] = []
        for family in families {
            guard let instrument = swaps.first(where: { $0.family == family }) else { throw OKXError.parameterError("instFamily") }
            for tier in PositionTiers.tiers(of: instrument) where wanted == nil || wanted == tier.tier {
                items.append(TierItem(family: family, tier))
            }
        }
        return OKXResponse(items)
    }
}

struct MarkPriceItem: Encodable, Sendable {
    let instId: String
    let instType = "SWAP"
    let markPx: String
    let ts: String
}

struct MaxSizeItem: Encodable, Sendable {
    let ccy: String
    let instId: String
    let maxBuy: String
    let maxSell: String
}

struct MaxAvailableItem: Encodable, Sendable {
    let availBuy: String
    let availSell: String
    let instId: String
}

struct LeverageItem: Encodable, Sendable {
    let ccy = ""
    let instId: String
    let lever: String
    let mgnMode: String
    let posSide: String
}

/// A `public/position-tiers` row: sizes in contracts, rates as fractions.
struct TierItem: Encodable, Sendable {
    let baseMaxLoan = ""
    let imr: String
    let instFamily: String
    let instId = ""
    let maxLever: String
    let maxSz: String
    let minSz: String
    let mmr: String
    let optMgnFactor = "0"
    let quoteMaxLoan = ""
    let tier: String
    let uly: String

    init(family: String, _ tier: PositionTier) {
        imr = tier.initialRate.text
        instFamily = family
        maxLever = String(tier.maximumLeverage)
        maxSz = tier.maximumSize.text
        minSz = tier.minimumSize.text
        mmr = tier.maintenanceRate.text
        self.tier = String(tier.tier)
        uly = family
    }
}

/// A `trade/close-position` answer item.
struct ClosePositionItem: Encodable, Sendable {
    let clOrdId: String
    let instId: String
    let posSide: String
    let tag: String
}

/// A `public/funding-rate` item: the current period's rate (from the premium now) and when it settles.
struct FundingRateItem: Encodable, Sendable {
    let formulaType = "withRate"
    let fundingRate: String
    let fundingTime: String
    let impactValue = ""
    let instId: String
    let instType = "SWAP"
    let interestRate: String
    let maxFundingRate: String
    let method = "current_period"
    let minFundingRate: String
    let nextFundingRate = ""
    let nextFundingTime: String
    let premium: String
    let settFundingRate: String
    let settState = "settled"
    let ts: String

    init(_ quote: FundingQuote, now: Int64) {
        fundingRate = quote.rate.text
        fundingTime = String(quote.fundingTime)
        instId = quote.instrument
        interestRate = Funding.interest.text
        maxFundingRate = Funding.maximum.text
        minFundingRate = Funding.minimum.text
        nextFundingTime = String(quote.nextFundingTime)
        premium = quote.premium.text
        settFundingRate = quote.lastSettled?.rate.text ?? ""
        ts = String(now)
    }
}

/// A `public/funding-rate-history` item: a settlement's rate, as settled.
struct FundingHistoryItem: Encodable, Sendable {
    let formulaType = "withRate"
    let fundingRate: String
    let fundingTime: String
    let instId: String
    let instType = "SWAP"
    let method: String
    let realizedRate: String

    init(_ settlement: FundingSettlement) {
        fundingRate = settlement.rate.text
        fundingTime = String(settlement.time)
        instId = settlement.instrument
        method = settlement.method == "manual" ? "current_period" : settlement.method
        realizedRate = settlement.rate.text
    }
}
