import KeysmithCore

/// Accounts and API keys, persisted. Every write takes the ``AuditRecord`` of the action and appends it to the
/// audit chain in the write's own transaction (only when the write changes something). Implemented by ``SQLKeyStore`` on both databases.
///
/// Every key write bumps a store-wide change sequence, so a reader can ask for what changed since the last
/// sequence it saw (``keyChanges(after:)``) — how the server's key cache stays current with writes made by the
/// CLI or other processes.
public protocol KeyStore: Sendable {
    // MARK: Accounts
    func insert(account: Account, audit: AuditRecord) async throws(StoreError)
    func masterAccount() async throws(StoreError) -> Account?
    func account(uid: String) async throws(StoreError) -> Account?
    func subAccount(named name: String, parentUID: String) async throws(StoreError) -> Account?
    func subAccounts(parentUID: String) async throws(StoreError) -> [Account]
    /// Freezes or unfreezes an account; its active keys get a new change sequence so that every key cache reloads them
    /// (and with them the account's state). False when there is no such account.
    func setFrozen(accountUID: String, frozen: Bool, audit: AuditRecord) async throws(StoreError) -> Bool
    /// Changes an account's mode (`acctLv`) and position mode, refreshing its keys in every key cache like
    /// ``setFrozen(accountUID:frozen:audit:)``. `.conflict` while the account has open SWAP orders; false when there
    /// is no such account.
    func setModes(accountUID: String, level: AccountLevel, positionMode: PositionMode, audit: AuditRecord) async throws(StoreError) -> Bool

    // MARK: Keys
    /// Inserts a key. Fails with `.limitReached` when the account already holds `maximumPerAccount` unrevoked keys,
    /// and `.duplicate` when an unrevoked key of the account has the same label — both checked in the write transaction.
    func insert(key: StoredKey, maximumPerAccount: Int, audit: AuditRecord) async throws(StoreError)
    /// Replaces label, permissions, allowlist, expiry and rate limit of an unrevoked key, and its pending change
    /// (`nil` drops it); fails with `.duplicate` on a label clash.
    func update(key: APIKey, pending: PendingKeyChange?, audit: AuditRecord) async throws(StoreError)
    /// Rotation in one transaction: shortens the old key's expiry to `oldKeyExpiresAt` and inserts its successor.
    /// Fails with `.notFound` when the old key is no longer active, `.duplicate` on a label clash.
    func rotate(apiKey: String, oldKeyExpiresAt: Int64, successor: StoredKey, audit: AuditRecord) async throws(StoreError)
    /// Marks a key revoked. Returns false when it was unknown or already revoked.
    func revoke(apiKey: String, at time: Int64, reason: String, audit: AuditRecord) async throws(StoreError) -> Bool
    func key(apiKey: String) async throws(StoreError) -> StoredKey?
    /// The key whose secret has this fingerprint (see ``MasterKey/secretFingerprints()``).
    func key(secretFingerprint: [UInt8]) async throws(StoreError) -> StoredKey?
    func keys(accountUID: String) async throws(StoreError) -> [StoredKey]
    /// Records when and from where keys were last used — one batched write for many requests. Does not count as a
    /// key change (no new change sequence), so it never makes caches reload keys.
    func recordUsage(_ usage: [KeyUsage]) async throws(StoreError)
    // MARK: Pending (cooling-down) changes
    func pending(apiKey: String) async throws(StoreError) -> PendingKeyChange?
    func allPending() async throws(StoreError) -> [PendingKeyChange]
    /// Drops the key's pending change; false when there was none.
    func cancelPending(apiKey: String, audit: AuditRecord) async throws(StoreError) -> Bool
    /// Applies every pending change due at `now` to its (still active) key, in one transaction with an audit event
    /// per key; returns the keys.
    func applyPending(dueAt now: Int64, audit: @escaping @Sendable (String) -> AuditRecord) async throws(StoreError) -> [String]

    /// Keys written after `sequence` (inserted, modified or revoked), and the newest sequence.
    func keyChanges(after sequence: Int64) async throws(StoreError) -> KeyChanges
}

