import Logging
import Synchronization
import KeysmithCore
import KeysmithStore

/// The mark price of each perpetual: the price its margin, unrealised PnL and liquidation are measured at. It is
/// the index — the mid of the spot book of the same pair (`BTC-USDT` for `BTC-USDT-SWAP`), or that pair's last trade
/// when one side of the book is empty — rounded down to the swap's tick, unless the operator pinned it (`keysmith
/// mark set`, for tests and demonstrations). Pins are held in memory and reloaded every second by
/// ``SettingsWatcher``; this node's own pins apply at once.
public final class MarkPriceService: Sendable {
    private let store: any OrderStore
    private let engine: MatchingEngine
    private let clock: any WallClock
    private let pins: ReloadedSnapshot<[String: String]>
    /// The minute of mark prices this node is recording, per perpetual (see ``record(logger:)``).
    private let minutes = Mutex<[String: PriceCandle]>([:])
    /// One recording at a time: each reads the minute the last one wrote.
    private let recording = ConcurrencyLimit(1)

    public init(store: any OrderStore, engine: MatchingEngine, clock: any WallClock) {
        self.store = store
        self.engine = engine
        self.clock = clock
        self.pins = ReloadedSnapshot([:])
    }

    /// Reloads the pins from the store.
    public func refresh() async throws(OKXError) {
        let store = self.store
        try await pins.reload { () async throws(OKXError) in try await mapped { () async throws(StoreError) in try await store.markPins() } }
    }

    /// The pinned prices (text per instrument) as last loaded.
    public var pinned: [String: String] { pins.value }

    /// The index of `swap`: its spot pair's mid, or last trade; nil when that pair is not listed or has neither.
    public func index(of swap: Instrument) async throws(OKXError) -> Amount? {
        let spot = swap.family
        guard let pair = try? await engine.instrument(spot), pair.type == .spot else { return nil }
        let depth = try await engine.depth(spot, levels: 1)
        let units: Int64
        if let bid = depth.bids.first?.0, let ask = depth.asks.first?.0 {
            units = Int64((Int128(bid) + Int128(ask)) / 2)
        } else {
            let store = self.store
            guard let last = try await mapped({ () async throws(StoreError) in try await store.trades(instrument: spot, limit: 1) }).first
            else { return nil }
            units = last.price
        }
        return Self.floored(Amount(units: units, scale: pair.tickSize.scale), to: swap.tickSize)
    }

    /// The mark price of `swap`: its pin, else its index; nil when there is neither.
    public func mark(of swap: Instrument) async throws(OKXError) -> Amount? {
        if let text = pinned[swap.id], let pin = Amount(parsing: text, scale: swap.tickSize.scale) { return pin }
        return try await index(of: swap)
    }

    /// Pins the mark price of a SWAP instrument at `text` (a positive multiple of its tick), or releases it (nil).
    public func pin(_ swap: Instrument, at text: String?, origin: AuditOrigin) async throws(OKXError) {
        guard swap.type == .swap else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: \(swap.id) is not a SWAP instrument")
        }
        var normalised: String?
        if let text {
            guard let price = Amount(parsing: text, scale: swap.tickSize.scale), price.isPositive, price.isMultiple(of: swap.tickSize) else {
                throw OKXError.parameterError("px").with(message: "Parameter px error: a positive multiple of \(swap.tickSize.text)")
            }
            normalised = price.text
        }
        let now = clock.milliseconds
        let audit = origin.record(at: now, account: "", target: swap.id, details: ["markPx": normalised ?? ""])
        let store = self.store, id = swap.id, value = normalised
        try await mapped { () async throws(StoreError) in try await store.pinMark(id, price: value, at: now, audit: audit) }
        try await refresh()
    }

    /// Records each perpetual's mark price now into its minute (called every second by the serving node's
    /// ``FundingScheduler``, once its books are loaded): a new minute is written at once, a minute already written
    /// again when its high, low or close moved. `market/mark-price-candles` reads these minutes.
    public func record(logger: Logger) async {
        await record(logger: logger, failures: nil)
    }

    package func record(logger: Logger, failures: RetriedFailures?) async {
        await recording.run { () async -> Void in await recordNow(logger: logger, failures: failures) }
    }

    private func recordNow(logger: Logger, failures: RetriedFailures?) async {
        func failed(_ message: Logger.Message, _ error: any Error, _ metadata: Logger.Metadata = [:]) {
            if let failures { failures.failed(logger, message, error: error, metadata: metadata) } else {
                logger.backgroundFailure(message, error: error, metadata: metadata)
            }
        }
        // Not before the books are loaded (by the node's first market or trading request): loading them here would
        // fix the instrument list before the operator's changes at start-up.
        guard await engine.isLoaded else { return }
        let now = clock.milliseconds
        let minute = now - now % 60_000
        let swaps: [Instrument]
        do {
            swaps = try await engine.allInstruments().filter { $0.type == .swap }
        } catch {
            failed("listing the perpetuals to record mark prices failed", error)
            return
        }
        for swap in swaps {
            do {
                guard let mark = try await mark(of: swap) else { continue }
                let last = minutes.withLock { $0[swap.id] }
                let candle: PriceCandle
                if let last, last.start == minute, last.scale == mark.scale {
                    candle = last.adding(mark.units)
                    guard candle != last else { continue }
                } else {
                    candle = PriceCandle(instrument: swap.id, start: minute, price: mark)
                }
                let store = self.store
                try await mapped { () async throws(StoreError) in try await store.recordMarkMinute(candle) }
                minutes.withLock { $0[swap.id] = candle }
            } catch {
                failed("recording a mark price failed", error, ["instId": "\(swap.id)"])
            }
        }
    }

    /// Candles of `swap`'s mark price, newest first: `limit` bars of `bar` that began before `after` and after
    /// `before` (both optional, exclusive), each from the minutes recorded in it; bars with no minute recorded (no
    /// serving node measured the mark then) are left out.
    public func candles(_ swap: Instrument, bar: CandleBar, after: Int64?, before: Int64?, limit: Int) async throws(OKXError) -> [PriceCandle] {
        let store = self.store, id = swap.id
        // The newest bar that may be listed ends here (a time past now reads as now: no bar begins later).
        let now = clock.milliseconds
        guard (after ?? 1) > 0 else { return [] }
        var cursor = bar.end(of: bar.start(of: min(after ?? now + 1, now + 1) - 1))
        var found: [PriceCandle] = []
        while found.count < limit {
            let end = cursor
            guard let latest = try await mapped({ () async throws(StoreError) in
                try await store.latestMarkMinute(instrument: id, before: end, after: before)
            }) else { break }
            let start = bar.start(of: latest)
            if let before, start <= before { break }
            if after.map({ start < $0 }) ?? true,
                let candle = try await mapped({ () async throws(StoreError) in
                    try await store.markCandle(instrument: id, from: start, to: bar.end(of: start))
                })
            {
                found.append(candle)
            }
            cursor = start
        }
        return found
    }

    /// `price` rounded down to a multiple of `tick` (at the tick's scale).
    static func floored(_ price: Amount, to tick: Amount) -> Amount? {
        var units = Int128(price.units)
        for _ in 0..<max(0, tick.scale - price.scale) { units *= 10 }
        for _ in 0..<max(0, price.scale - tick.scale) { units /= 10 }
        let step = Int128(tick.units)
        guard step > 0, let value = Int64(exactly: units - units % step) else { return nil }
        return Amount(units: value, scale: tick.scale)
    }
}

/// The matching engine's way to the ``MarkPriceService``, which is built on the engine and attached once it exists.
public final class MarkSource: Sendable {
    private let service = Mutex<MarkPriceService?>(nil)

    public init() {}

    public func attach(_ marks: MarkPriceService) {
        service.withLock { $0 = marks }
    }

    /// The mark price of `swap`; nil before a service is attached or while it has none.
    func mark(of swap: Instrument) async throws(OKXError) -> Amount? {
        guard let marks = service.withLock({ $0 }) else { return nil }
        return try await marks.mark(of: swap)
    }
}
