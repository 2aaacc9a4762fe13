import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Public market data from the books and fills: `market/ticker`, `market/tickers`, `market/books`, `market/trades`,
/// `market/candles`.
struct MarketRoutes {
    let engine: MatchingEngine
    let orders: any OrderStore
    let clock: any WallClock

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("market/ticker") { request, _ in
            let params = OKXParameters(query: request.uri.query)
            let instrument = try await engine.instrument(try params.required("instId"))
            return OKXResponse([try await ticker(instrument)])
        }
        group.get("market/tickers") { request, _ in
            let type = try OKXParameters(query: request.uri.query).required("instType")
            guard PublicRoutes.instrumentTypes.contains(type) else { throw OKXError.parameterError("instType") }
            var items: [TickerItem] = []
            for instrument in try await engine.allInstruments() where instrument.type.rawValue == type {
                items.append(try await ticker(instrument))
            }
            return OKXResponse(items)
        }
        group.get("market/books") { request, _ in
            let params = OKXParameters(query: request.uri.query)
            let instrument = try await engine.instrument(try params.required("instId"))
            let levels = try params.integer("sz", in: 1...400, default: 1)
            let depth = try await engine.depth(instrument.id, levels: levels)
            func level(_ entry: (Int64, Int128, Int)) -> [String] {
                [
                    Amount(units: entry.0, scale: instrument.tickSize.scale).text,
                    Amount.text(units: entry.1, scale: instrument.lotSize.scale), "0", String(entry.2),
                ]
            }
            return OKXResponse([BookItem(asks: depth.asks.map(level), bids: depth.bids.map(level), ts: String(clock.milliseconds))])
        }
        group.get("market/candles") { request, _ in try await candles(request) }
        group.get("market/history-candles") { request, _ in try await candles(request) }
        group.get("market/trades") { request, _ in
            let params = OKXParameters(query: request.uri.query)
            let instrument = try await engine.instrument(try params.required("instId"))
            let limit = try params.limit(maximum: 500)
            let trades = try await mapped { () async throws(StoreError) in try await orders.trades(instrument: instrument.id, limit: limit) }
            return OKXResponse(trades.map { TradeItem($0, instrument: instrument) })
        }
        group.get("market/history-trades") { request, _ in
            // type 1 (default): after/before are trade ids; type 2: fill times in milliseconds. At most 100 per page.
            let params = OKXParameters(query: request.uri.query)
            let instrument = try await engine.instrument(try params.required("instId"))
            let type = params.optional("type") ?? "1"
            guard type == "1" || type == "2" else { throw OKXError.parameterError("type") }
            let page = try params.page(now: clock.milliseconds)
            let trades = try await mapped { () async throws(StoreError) in
                try await orders.trades(instrument: instrument.id, matching: page, byTime: type == "2")
            }
            return OKXResponse(trades.map { TradeItem($0, instrument: instrument) })
        }
    }

    /// Candles from the fills, newest first: `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`; bars without a
    /// trade are left out. `after`/`before` page by bar start time.
    func candles(_ request: Request) async throws(OKXError) -> OKXResponse<[String]> {
        let params = OKXParameters(query: request.uri.query)
        let instrument = try await engine.instrument(try params.required("instId"))
        let barName = params.optional("bar") ?? "1m"
        guard let bar = CandleBar(barName) else {
            throw OKXError.parameterError("bar").with(
                message: "Parameter bar error: 1m 3m 5m 15m 30m 1H 2H 4H, or 6H 12H 1D 2D 3D 1W 1M 3M (Hong Kong time) and their utc forms (6Hutc…)")
        }
        let limit = try params.limit(maximum: 300)
        let after = params.optional("after").flatMap { Int64($0) }, before = params.optional("before").flatMap { Int64($0) }
        let trades = try await mapped { () async throws(StoreError) in try await orders.trades(instrument: instrument.id, limit: 50_000) }
        var buckets: [Int64: [Fill]] = [:]
        for fill in trades { buckets[bar.start(of: fill.time), default: []].append(fill) }
        let now = clock.milliseconds
        let starts = buckets.keys.sorted(by: >).filter { start in
            (after.map { start < $0 } ?? true) && (before.map { start > $0 } ?? true)
        }
        func price(_ units: Int64) -> String { Amount(units: units, scale: instrument.tickSize.scale).text }
        let rows: [[String]] = starts.prefix(limit).map { start in
            let fills = (buckets[start] ?? []).sorted { $0.tradeID < $1.tradeID }
            // Volumes are 128-bit sums: many fills of one bar may add up to more than one fill can hold.
            let volume = Self.total(fills.map(\.size)), quote = Self.total(fills.map(\.notional))
            return [
                String(start), price(fills.first?.price ?? 0), price(fills.map(\.price).max() ?? 0), price(fills.map(\.price).min() ?? 0),
                // Spot: `vol` in the base currency, `volCcy` and `volCcyQuote` in the quote currency.
                price(fills.last?.price ?? 0), Amount.text(units: volume, scale: instrument.lotSize.scale),
                Amount.text(units: quote, scale: instrument.quoteScale), Amount.text(units: quote, scale: instrument.quoteScale),
                bar.end(of: start) <= now ? "1" : "0",
            ]
        }
        return OKXResponse(rows)
    }

    /// The candle of the `bar` that holds `time`, as `market/candles` reads it (nil when the bar has no trade yet):
    /// what the business channels' `candle…` pushes carry.
    func candle(_ instrument: Instrument, bar: CandleBar, at time: Int64) async throws(OKXError) -> [String]? {
        let start = bar.start(of: time)
        let page = Page(before: start - 1, limit: Int(Int32.max))
        let fills = try await mapped { () async throws(StoreError) in try await orders.trades(instrument: instrument.id, matching: page, byTime: true) }
            .filter { bar.start(of: $0.time) == start }.sorted { $0.tradeID < $1.tradeID }
        guard let first = fills.first, let last = fills.last else { return nil }
        func price(_ units: Int64) -> String { Amount(units: units, scale: instrument.tickSize.scale).text }
        let volume = Self.total(fills.map(\.size)), quote = Self.total(fills.map(\.notional))
        return [
            String(start), price(first.price), price(fills.map(\.price).max() ?? 0), price(fills.map(\.price).min() ?? 0), price(last.price),
            Amount.text(units: volume, scale: instrument.lotSize.scale), Amount.text(units: quote, scale: instrument.quoteScale),
            Amount.text(units: quote, scale: instrument.quoteScale), bar.end(of: start) <= clock.milliseconds ? "1" : "0",
        ]
    }

    /// Best bid and ask from the book; last price, 24-hour open, high, low and volumes from the fills.
    func ticker(_ instrument: Instrument) async throws(OKXError) -> TickerItem {
        let depth = try await engine.depth(instrument.id, levels: 1)
        let now = clock.milliseconds
        let recent = try await mapped { () async throws(StoreError) in try await orders.trades(instrument: instrument.id, limit: 10_000) }
        let day = recent.filter { $0.time >= now - 86_400_000 }
        func price(_ units: Int64?) -> String { units.map { Amount(units: $0, scale: instrument.tickSize.scale).text } ?? "" }
        func size(_ units: Int128?) -> String { units.map { Amount.text(units: $0, scale: instrument.lotSize.scale) } ?? "0" }
        let last = recent.first
        return TickerItem(
            instType: instrument.type.rawValue, instId: instrument.id, last: price(last?.price), lastSz: size(last.map { Int128($0.size) }), askPx: price(depth.asks.first?.0),
            askSz: size(depth.asks.first?.1), bidPx: price(depth.bids.first?.0), bidSz: size(depth.bids.first?.1),
            open24h: price(day.last?.price ?? last?.price), high24h: price(day.map(\.price).max() ?? last?.price),
            low24h: price(day.map(\.price).min() ?? last?.price),
            volCcy24h: Amount.text(units: Self.total(day.map(\.notional)), scale: instrument.quoteScale),
            vol24h: size(Self.total(day.map(\.size))), ts: String(now))
    }

    /// A sum of fill sizes or values that cannot overflow (fewer than 2^63 fills of at most 2^63 units each).
    static func total(_ units: [Int64]) -> Int128 {
        units.reduce(Int128(0)) { $0 + Int128($1) }
    }
}

struct TickerItem: Encodable, Sendable {
    let instType: String
    let instId: String
    let last: String
    let lastSz: String
    let askPx: String
    let askSz: String
    let bidPx: String
    let bidSz: String
    let open24h: String
    let high24h: String
    let low24h: String
    let volCcy24h: String
    let vol24h: String
    let sodUtc0 = ""
    let sodUtc8 = ""
    let ts: String
}

struct BookItem: Encodable, Sendable {
    let asks: [[String]]
    let bids: [[String]]
    let ts: String
}

/// A public trade: the taker's side, price and size.
struct TradeItem: Encodable, Sendable {
    let instId: String
    let px: String
    let side: String
    let sz: String
    let tradeId: String
    let ts: String

    init(_ fill: Fill, instrument: Instrument) {
        instId = fill.instrument
        px = Amount(units: fill.price, scale: instrument.tickSize.scale).text
        side = fill.side.rawValue
        sz = Amount(units: fill.size, scale: instrument.lotSize.scale).text
        tradeId = String(fill.tradeID)
        ts = String(fill.time)
    }
}
