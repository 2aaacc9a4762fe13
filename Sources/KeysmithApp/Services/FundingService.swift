import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle
import Synchronization

/// The current period's funding of a perpetual: its rate from the premium now, and when it settles.
public struct FundingQuote: Sendable, Hashable {
    public var instrument: String
    public var premium: Amount
    public var rate: Amount
    /// The funding time this rate settles at, and the one after.
    public var fundingTime: Int64
    public var nextFundingTime: Int64
    /// The rate of the last settlement (nil before the first).
    public var lastSettled: FundingSettlement?
}

/// Funding of the perpetuals: the rate of the current period (``Funding/rate(premium:)`` from the swap's price —
/// its book's mid, else its last trade — over its index), settled at each funding time (every ``interval``, 8 hours
/// by default: `KEYSMITH_FUNDING_INTERVAL` in seconds) by ``FundingScheduler``, or at once by the operator
/// (`keysmith funding settle`, which queues a request the serving process settles within a second, or the console).
public final class FundingService: Sendable {
    private let engine: MatchingEngine
    private let marks: MarkPriceService
    private let store: any OrderStore
    private let clock: any WallClock
    public let interval: Int64
    /// The last scheduled funding time each instrument was settled (or found settled) at, on this node.
    private let settled = Mutex<[String: Int64]>([:])
    /// The scheduler's failures: a database that fails for a moment is logged at warning (see ``RetriedFailures``).
    package let failures = RetriedFailures()

    public init(engine: MatchingEngine, marks: MarkPriceService, store: any OrderStore, clock: any WallClock, interval: Int64? = nil) {
        self.engine = engine
        self.marks = marks
        self.store = store
        self.clock = clock
        self.interval = interval ?? Self.configuredInterval
    }

    /// `KEYSMITH_FUNDING_INTERVAL` (seconds, from 60 to a year), else eight hours.
    static var configuredInterval: Int64 {
        guard let text = ProcessInfo.processInfo.environment["KEYSMITH_FUNDING_INTERVAL"], let seconds = Int64(text),
            (60...31_622_400).contains(seconds)
        else { return Funding.defaultInterval }
        return seconds * 1000
    }

    /// How long after a funding time it may still be settled.
    static let grace: Int64 = 60_000

    /// The swap's own price: its book's mid, else its last trade; nil when it has neither.
    public func price(of swap: Instrument) async throws(OKXError) -> Amount? {
        let depth = try await engine.depth(swap.id, levels: 1)
        if let bid = depth.bids.first?.0, let ask = depth.asks.first?.0 {
            return Amount(units: Int64((Int128(bid) + Int128(ask)) / 2), scale: swap.tickSize.scale)
        }
        let store = self.store, id = swap.id
        let last = try await mapped { () async throws(StoreError) in try await store.trades(instrument: id, limit: 1) }.first
        return last.map { Amount(units: $0.price, scale: swap.tickSize.scale) }
    }

    public func quote(_ swap: Instrument) async throws(OKXError) -> FundingQuote {
        let premium = Funding.premium(price: try await price(of: swap), index: try await marks.index(of: swap))
        let now = clock.milliseconds
        let next = Funding.nextTime(after: now + 1, interval: interval)
        let store = self.store, id = swap.id
        let last = try await mapped { () async throws(StoreError) in
            try await store.fundingSettlements(instrument: id, matching: Page(limit: 1))
        }.first
        return FundingQuote(
            instrument: swap.id, premium: premium, rate: Funding.rate(premium: premium), fundingTime: next,
            nextFundingTime: next + interval, lastSettled: last)
    }

    /// The settlements of `swap` in `page` (cursors are funding times), newest first.
    public func history(_ swap: Instrument, page: Page) async throws(OKXError) -> [FundingSettlement] {
        let store = self.store, id = swap.id
        return try await mapped { () async throws(StoreError) in try await store.fundingSettlements(instrument: id, matching: page) }
    }

    /// Settles `swap` now at the current rate and mark (the operator's `funding settle`).
    public func settleNow(_ swap: Instrument, origin: AuditOrigin) async throws(OKXError) -> FundingOutcome {
        try await settle(swap, at: clock.milliseconds, method: "manual", origin: origin)
    }

    private func settle(_ swap: Instrument, at time: Int64, method: String, origin: AuditOrigin) async throws(OKXError) -> FundingOutcome {
        guard swap.type == .swap else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: \(swap.id) is not a SWAP instrument")
        }
        guard let mark = try await marks.mark(of: swap) else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: \(swap.id) has no mark price to settle at")
        }
        let rate = try await quote(swap).rate
        return try await engine.settleFunding(
            FundingSettlement(instrument: swap.id, time: time, rate: rate, mark: mark, method: method), inst: swap, origin: origin)
    }

    /// Settles every perpetual whose latest funding time, passed less than ``grace`` ago, this node has not seen
    /// settled (another node may have settled it: the store refuses a second settlement of the same time). A funding
    /// time missed by longer (no server was running) is not settled afterwards: positions opened since would pay for a
    /// time they were not held at. An instrument without a mark price waits for one (within the grace).
    public func settleDue(logger: Logger) async {
        let now = clock.milliseconds
        let due = now - now % interval
        guard now - due <= Self.grace else { return }
        let swaps: [Instrument]
        do {
            swaps = try await engine.allInstruments().filter { $0.type == .swap }
        } catch {
            failures.failed(logger, "listing the perpetuals for funding failed", error: error)
            return
        }
        for swap in swaps where settled.withLock({ $0[swap.id] }) != due {
            do {
                guard try await marks.mark(of: swap) != nil else { continue }
                _ = try await settle(swap, at: due, method: "current_period", origin: .system("funding.settle"))
            } catch where error.code == OKXError.alreadyExists("fundingTime").code {
                // Settled already (by another node, or before a restart).
            } catch {
                failures.failed(logger, "settling funding failed", error: error, metadata: ["instId": "\(swap.id)"])
                continue
            }
            settled.withLock { $0[swap.id] = due }
        }
    }

    /// Liquidates the positions the mark prices put at or under their maintenance margin (see
    /// ``MatchingEngine/liquidate(_:mark:origin:)``); returns how many.
    @discardableResult
    public func liquidateDue(logger: Logger) async -> Int {
        var count = 0
        let swaps: [Instrument]
        do {
            guard try await engine.anyOpenPosition() else { return 0 }
            swaps = try await engine.allInstruments().filter { $0.type == .swap }
        } catch {
            failures.failed(logger, "reading positions for liquidation failed", error: error)
            return 0
        }
        // Each instrument on its own: one that fails does not keep the others from being checked.
        for swap in swaps {
            do {
                guard let mark = try await marks.mark(of: swap) else { continue }
                count += try await engine.liquidate(swap, mark: mark, origin: .system("position.liquidate")).count
            } catch {
                failures.failed(logger, "liquidating positions failed", error: error, metadata: ["instId": "\(swap.id)"])
            }
        }
        return count
    }

    /// Records each perpetual's mark price into its minute (``MarkPriceService/record(logger:)``).
    public func recordMarks(logger: Logger) async {
        await marks.record(logger: logger, failures: failures)
    }

    /// Settles what `keysmith funding settle` asked for, oldest request first.
    public func processRequests(logger: Logger) async {
        let store = self.store
        do {
            let requests = try await mapped { () async throws(StoreError) in try await store.pendingFundingRequests() }
            // At the pins as they are now (this node may have started a moment ago, or the operator just set one).
            if !requests.isEmpty { try await marks.refresh() }
            for request in requests {
                // Claimed first (by one node only, never twice): a crash after the claim loses the request rather
                // than settling it again. Finished once settled, so the CLI reads the settlement it asked for.
                let now = clock.milliseconds
                guard try await mapped({ () async throws(StoreError) in try await store.claimFundingRequest(request.id, at: now) })
                else { continue }
                var failure: String?
                do {
                    let swap = try await engine.instrument(request.instrument)
                    _ = try await settleNow(swap, origin: AuditOrigin(actor: "cli", action: "funding.settle"))
                } catch {
                    failure = error.message
                    failures.failed(logger, "a requested funding settlement failed", error: error, metadata: ["instId": "\(request.instrument)"])
                }
                // Retried (a database failing for a moment must not leave the request claimed for ever).
                let finished = clock.milliseconds, outcome = failure
                for attempt in 1...3 {
                    do {
                        try await mapped { () async throws(StoreError) in
                            try await store.finishFundingRequest(request.id, at: finished, failure: outcome)
                        }
                        break
                    } catch where attempt < 3 {
                        try? await Task.sleep(for: .milliseconds(200 * attempt))
                    }
                }
            }
        } catch {
            failures.failed(logger, "reading funding requests failed", error: error)
        }
    }
}

/// Every second: records the mark prices, liquidates what they call for, then settles the operator's queued funding requests and
/// funding at each funding time.
public struct FundingScheduler: Service {
    let funding: FundingService
    let logger: Logger

    public func run() async throws {
        await repeatUntilShutdown(every: .seconds(1)) {
            await funding.failures.round {
                await funding.recordMarks(logger: logger)
                await funding.liquidateDue(logger: logger)
                await funding.processRequests(logger: logger)
                await funding.settleDue(logger: logger)
            }
        }
    }
}
