import Foundation
import KeysmithCore
import KeysmithStore

/// Trading fees: the schedule of rates per fee level and instrument type, and each account's level. The operator
/// changes them (`keysmith fee set`, `keysmith fee assign`); `account/trade-fee` reports them and the matching
/// engine charges them on every fill. Requests read a snapshot held in memory, which ``SettingsWatcher`` reloads
/// every second (a change made by the CLI reaches a serving node within that second); this node's own changes
/// reload it at once.
public final class FeeService: Sendable {
    private let store: any FeeStore
    private let clock: any WallClock
    private let snapshot: ReloadedSnapshot<FeeSchedule>

    public init(store: any FeeStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
        // OKX's Lv1 rates until the first load: never zero fees for want of a read.
        var defaults = FeeSchedule()
        for row in FeeSchedule.defaults { defaults.rates[row.level, default: [:]][row.instrumentType] = row.rates }
        self.snapshot = ReloadedSnapshot(defaults)
    }

    /// The schedule as last loaded.
    public var current: FeeSchedule { snapshot.value }

    /// The schedule from the store.
    public func schedule() async throws(OKXError) -> FeeSchedule {
        try await mapped { () async throws(StoreError) in try await store.feeSchedule() }
    }

    /// Reloads the snapshot from the store.
    public func refresh() async throws(OKXError) {
        try await snapshot.reload { () async throws(OKXError) in try await self.schedule() }
    }

    /// Sets the maker and taker rates of `level` on `instrumentType` (rates as ``FeeRates/rate(_:)`` reads them).
    public func set(level: String, instrumentType: String, maker: String, taker: String, origin: AuditOrigin) async throws(OKXError)
        -> FeeRates
    {
        guard FeeSchedule.isValidLevel(level) else {
            throw OKXError.parameterError("level").with(message: "Parameter level error: 1 to 16 letters and digits, e.g. Lv1 or VIP2")
        }
        let type = instrumentType.uppercased()
        guard FeeSchedule.instrumentTypes.contains(type) else {
            throw OKXError.parameterError("instType").with(
                message: "Parameter instType error: one of \(FeeSchedule.instrumentTypes.joined(separator: ", "))")
        }
        func rate(_ text: String, _ name: String) throws(OKXError) -> Amount {
            guard let rate = FeeRates.rate(text) else {
                throw OKXError.parameterError(name).with(
                    message: "Parameter \(name) error: a charge of 0 to 1 % with at most 8 decimals (-0.001, 0.001 or 0.1%); rebates are not paid")
            }
            return rate
        }
        let rates = FeeRates(maker: try rate(maker, "maker"), taker: try rate(taker, "taker"))
        let now = clock.milliseconds
        let audit = origin.record(
            at: now, account: "", target: level, details: ["instType": type, "maker": rates.maker.text, "taker": rates.taker.text])
        try await mapped { () async throws(StoreError) in
            try await store.save(rates, level: level, instrumentType: type, at: now, audit: audit)
        }
        try await refresh()
        return rates
    }

    /// Puts an account on a fee level of the schedule.
    public func assign(level: String, to account: Account, origin: AuditOrigin) async throws(OKXError) {
        guard FeeSchedule.isValidLevel(level) else {
            throw OKXError.parameterError("level").with(message: "Parameter level error: 1 to 16 letters and digits, e.g. Lv1 or VIP2")
        }
        let now = clock.milliseconds
        let audit = origin.record(at: now, account: account.uid, target: account.uid, details: ["level": level])
        let uid = account.uid
        try await mapped { () async throws(StoreError) in try await store.assign(level: level, account: uid, at: now, audit: audit) }
        try await refresh()
    }
}
