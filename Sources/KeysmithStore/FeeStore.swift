import KeysmithCore

/// The fee schedule and the accounts' fee levels; each change commits with its audit event.
public protocol FeeStore: Sendable {
    func feeSchedule() async throws(StoreError) -> FeeSchedule
    /// Sets the rates of `level` for `instrumentType` (adding the level if it is new).
    func save(_ rates: FeeRates, level: String, instrumentType: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
    /// Puts the account on `level` (`.notFound` when the schedule has no rates for it).
    func assign(level: String, account: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
}
