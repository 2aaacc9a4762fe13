import KeysmithCore
import KeysmithStore

/// An account's leverage per SWAP instrument, margin mode and position side: `set-leverage` and `leverage-info`,
/// with OKX's rules (cross margin has one leverage per instrument; isolated margin one per side, `posSide` required
/// in long/short mode; 1× to the instrument's maximum; not while the instrument has open orders).
public struct LeverageService: Sendable {
    private let store: any OrderStore
    private let clock: any WallClock

    public init(store: any OrderStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Sets the leverage `text` for `instrument` in `marginMode`, audited.
    public func set(
        _ text: String, instrument: Instrument, marginMode: String, positionSide: String?, account: Account, origin: AuditOrigin
    ) async throws(OKXError) -> LeverageSetting {
        guard let terms = instrument.contract else {
            throw OKXError.parameterError("instId").with(message: "Parameter instId error: leverage applies to SWAP instruments")
        }
        guard account.level != .spot else { throw OKXError.unsupportedAccountMode }
        guard let mode = MarginMode(rawValue: marginMode) else {
            throw OKXError.parameterError("mgnMode").with(message: "Parameter mgnMode error: cross or isolated")
        }
        let leverage = try Leverage.parse(text, maximum: terms.maximumLeverage)
        // Cross margin has one leverage per instrument whatever posSide says; isolated margin follows the order rule.
        let side: PositionSide? = mode == .cross ? nil : try SwapOrderRules.side(positionSide, mode: account.positionMode)
        let setting = LeverageSetting(instrument: instrument.id, marginMode: mode, side: side, leverage: leverage)
        let now = clock.milliseconds
        let audit = origin.record(
            at: now, account: account.uid, target: instrument.id,
            details: ["mgnMode": mode.rawValue, "posSide": side?.rawValue ?? "", "lever": leverage.description])
        let uid = account.uid
        try await mapped { () async throws(StoreError) in try await store.setLeverage(setting, account: uid, at: now, audit: audit) }
        return setting
    }

    /// The account's leverage settings (defaults where it set none).
    public func settings(of account: Account) async throws(OKXError) -> LeverageSettings {
        let uid = account.uid
        return try await mapped { () async throws(StoreError) in try await store.leverageSettings(account: uid) }
    }
}
