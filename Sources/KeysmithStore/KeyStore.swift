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

/// A key as stored: its public description plus the sealed secret and the passphrase verifier.
public struct StoredKey: Sendable, Hashable {
    public var key: APIKey
    /// AES-GCM sealed secret, bound to `key.apiKey`.
    public var sealedSecret: [UInt8]
    /// Peppered HMAC-SHA256 of the passphrase.
    public var passphraseVerifier: [UInt8]
    /// The raw Ed25519 public key of an Ed25519 key (its `sealedSecret` is empty).
    public var publicKey: [UInt8]?
    /// Peppered HMAC of an HMAC key's secret, for finding the key of a leaked secret.
    public var secretFingerprint: [UInt8]?
    /// The change sequence of the last write to this key.
    public var changeSequence: Int64

    public init(
        key: APIKey, sealedSecret: [UInt8], passphraseVerifier: [UInt8], publicKey: [UInt8]? = nil,
        secretFingerprint: [UInt8]? = nil, changeSequence: Int64 = 0
    ) {
        self.secretFingerprint = secretFingerprint
        self.key = key
        self.sealedSecret = sealedSecret
        self.passphraseVerifier = passphraseVerifier
        self.publicKey = publicKey
        self.changeSequence = changeSequence
    }
}

/// A widening change to a key (withdraw added, or IPs widened) waiting out the cool-down.
public struct PendingKeyChange: Sendable, Hashable {
    public var apiKey: String
    /// The permissions and allowlist the key gets when the change takes effect.
    public var permissions: Permissions
    public var allowlist: IPAllowlist
    public var requestedAt: Int64
    public var effectiveAt: Int64

    public init(apiKey: String, permissions: Permissions, allowlist: IPAllowlist, requestedAt: Int64, effectiveAt: Int64) {
        self.apiKey = apiKey
        self.permissions = permissions
        self.allowlist = allowlist
        self.requestedAt = requestedAt
        self.effectiveAt = effectiveAt
    }
}

extension PendingKeyChange {
    /// A `pending_key_change` row as read by either backend.
    static func decode(
        apiKey: String, permissions: String, allowlist: String, requestedAt: Int64, effectiveAt: Int64
    ) throws(StoreError) -> PendingKeyChange {
        do {
            return PendingKeyChange(
                apiKey: apiKey, permissions: try Permissions(okx: permissions), allowlist: try IPAllowlist(okx: allowlist),
                requestedAt: requestedAt, effectiveAt: effectiveAt)
        } catch {
            throw StoreError.database("unreadable pending change for \(apiKey)")
        }
    }
}

/// One key's latest use.
public struct KeyUsage: Sendable, Hashable {
    public var apiKey: String
    public var at: Int64
    public var ip: String?

    public init(apiKey: String, at: Int64, ip: String?) {
        self.apiKey = apiKey
        self.at = at
        self.ip = ip
    }
}

public struct KeyChanges: Sendable {
    public var keys: [StoredKey]
    public var latestSequence: Int64

    public init(keys: [StoredKey], latestSequence: Int64) {
        self.keys = keys
        self.latestSequence = latestSequence
    }
}

/// A push feed of key changes from a shared database (PostgreSQL `LISTEN/NOTIFY`), so that nodes learn of a
/// change made elsewhere at once instead of at their next poll.
public protocol KeyChangeFeed: Sendable {
    /// Subscribes, calls `onChange(nil)` once subscribed (catch up: changes made while not listening were missed),
    /// then `onChange(sequence)` for each committed change until the connection drops (throws) or the task is cancelled.
    func followChanges(_ onChange: @escaping @Sendable (Int64?) async -> Void) async throws(StoreError)
}

/// Replay protection shared by every node of a shared database.
public protocol SharedReplayRegistry: Sendable {
    /// Records a signed request by what it signed; false when the same signed content was recorded and has not expired.
    func firstUse(_ content: SignedContent, expiresAt: Int64, now: Int64) async throws(StoreError) -> Bool
}

/// Rate-limit budgets shared by every node of a shared database.
public protocol SharedRateBudget: Sendable {
    /// Gives back `returning` unspent tokens of an earlier lease, then takes up to `want` tokens from the subject's
    /// bucket for the family (`capacity` tokens, refilled at `capacity / periodMilliseconds`), shared by all nodes;
    /// none granted when it holds less than one.
    func lease(subject: String, family: String, capacity: Int, periodMilliseconds: Int64, want: Int, returning: Int, now: Int64)
        async throws(StoreError) -> RateLease
}

/// What a node got from a shared bucket: `granted` tokens, or none and when one will be there.
public struct RateLease: Sendable, Hashable {
    public var granted: Int
    public var retryAfterMilliseconds: Int64

    public init(granted: Int, retryAfterMilliseconds: Int64) {
        self.granted = granted
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}
