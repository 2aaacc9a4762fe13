import KeysmithCore

/// The registry of third-party apps. Implemented by the key store, because re-binding an app's keys must happen
/// in the same transaction as the app's change.
public protocol AppStore: Sendable {
    /// Fails with `.duplicate` when an app of that name exists.
    func insert(app: App, audit: AuditRecord) async throws(StoreError)
    func app(named name: String) async throws(StoreError) -> App?
    func apps() async throws(StoreError) -> [App]
    /// Replaces the app's allowlist and URL and gives every active key linked to it the new allowlist, in one
    /// transaction (the audit event lists them in `details["keys"]`). Returns the re-bound keys' ids. `.notFound` for an unknown app.
    func update(app: App, audit: AuditRecord) async throws(StoreError) -> [String]
    /// Removes the app. `.limitReached` (with the count) while active keys are linked to it; `.notFound` if unknown.
    func removeApp(named name: String, audit: AuditRecord) async throws(StoreError)
}
