import KeysmithCore
import KeysmithStore

/// The API-key lifecycle: create (secret shown once), list, modify and revoke, with OKX's rules — passphrase
/// policy (59505), at most 20 IPs (59503), 50 keys per account (59501), unique labels (59502), no withdraw on
/// sub-account keys. The OKX routes and the CLI both go through it. Every change is written with its audit event
/// (from `origin`) in one transaction.
///
/// ```swift
/// let created = try await keys.create(NewKeyRequest(account: sub, label: "bot", permissions: [.trade],
///                                                   allowlist: try IPAllowlist(okx: "203.0.113.7")),
///                                     origin: AuditOrigin(actor: "cli:alice", action: "apikey.create"))
/// created.credentials.secretKey   // shown to the user once, never stored in clear
/// ```
public struct KeyService: Sendable {
    public static let maximumKeysPerAccount = 50
    public static let maximumLabelLength = 50
    /// Adding withdraw or widening a key's IPs takes effect after 24 hours by default.
    public static let defaultCooldown: Int64 = 24 * 3_600_000
    /// Rotation keeps the old key for at most 30 days.
    public static let maximumGrace: Int64 = 30 * 86_400_000

    private let store: any KeyStore
    private let sealer: SecretSealer
    private let passphrases: PassphraseVerifier
    private let fingerprints: PassphraseVerifier
    private let clock: any WallClock
    /// How long adding withdraw or widening IPs waits before it applies (milliseconds; 0: at once).
    public let cooldown: Int64
    private let onChange: @Sendable () async -> Void

    /// - Parameter onChange: called after every key write (the server refreshes its cache at once).
    public init(
        store: any KeyStore, sealer: SecretSealer, passphrases: PassphraseVerifier, fingerprints: PassphraseVerifier,
        clock: any WallClock, cooldown: Int64 = KeyService.defaultCooldown, onChange: @escaping @Sendable () async -> Void = {}
    ) {
        self.cooldown = cooldown
        self.fingerprints = fingerprints
        self.store = store
        self.sealer = sealer
        self.passphrases = passphrases
        self.clock = clock
        self.onChange = onChange
    }

    public func create(_ request: NewKeyRequest, origin: AuditOrigin) async throws(OKXError) -> CreatedKey {
        try Self.validate(label: request.label)
        if !request.account.isMaster && request.permissions.contains(.withdraw) {
            throw OKXError.parameterError("perm").with(
                message: "Parameter perm error: sub-account API keys cannot have the withdraw permission")
        }
        if request.account.frozen { throw OKXError.subAccountSuspended(request.account.name) }
        let passphrase = request.passphrase ?? KeyMaterial.passphrase()
        try PassphrasePolicy.validate(passphrase)
        let now = clock.milliseconds
        if let expiresAt = request.expiresAt, expiresAt <= now {
            throw OKXError.parameterError("expires").with(message: "Parameter expires error: the expiry is in the past")
        }
        if let publicKey = request.ed25519PublicKey { _ = try Ed25519Verifier(publicKey: publicKey) }
        // An Ed25519 key has no secret: its holder keeps the private key.
        let secret = request.ed25519PublicKey != nil ? "" : Self.newSecret(request.secretFormat)
        let credentials = KeyCredentials(apiKey: KeyMaterial.apiKey(), secretKey: secret, passphrase: passphrase)
        var key = APIKey(
            apiKey: credentials.apiKey, accountUID: request.account.uid, label: request.label, purpose: request.purpose,
            permissions: request.permissions, allowlist: request.allowlist, environment: request.environment,
            createdAt: now, expiresAt: request.expiresAt, rateLimit: request.rateLimit)
        key.algorithm = request.ed25519PublicKey == nil ? .hmac : .ed25519
        key.trading = request.trading
        key.secretFormat = request.secretFormat
        let sealed = secret.isEmpty ? [] : try sealed(credentials)
        let stored = StoredKey(
            key: key, sealedSecret: sealed, passphraseVerifier: passphrases.verifier(for: passphrase),
            publicKey: request.ed25519PublicKey, secretFingerprint: secret.isEmpty ? nil : fingerprints.verifier(for: secret))
        let audit = origin.record(
            at: now, account: key.accountUID, target: key.apiKey, details: Self.auditDetails(of: key), alert: .keyCreated)
        try await keyWrite { () async throws(StoreError) in
            try await store.insert(key: stored, maximumPerAccount: Self.maximumKeysPerAccount, audit: audit)
        }
        return CreatedKey(key: key, credentials: credentials)
    }

    /// Changes label, permissions and/or allowlist of an active key of `account` (nil leaves a field as it is).
    ///
    /// Cool-down: what widens the key — adding withdraw, or admitting addresses its allowlist did not — becomes a
    /// pending change that applies after ``cooldown`` (visible in ``pending(apiKey:)``, cancellable); everything
    /// else (label, removed permissions, narrower IPs) applies at once. A newer change replaces a pending one.
    public func modify(
        apiKey: String, of account: Account, label: String?, permissions: Permissions?, allowlist: IPAllowlist?, origin: AuditOrigin
    ) async throws(OKXError) -> APIKey
    {
        var key = try await activeKey(apiKey, of: account)
        let current = key.permissions, currentAllowlist = key.allowlist
        if let label {
            try Self.validate(label: label)
            key.label = label
        }
        if let permissions {
            if !account.isMaster && permissions.contains(.withdraw) {
                throw OKXError.parameterError("perm").with(
                    message: "Parameter perm error: sub-account API keys cannot have the withdraw permission")
            }
            key.permissions = permissions
        }
        let targetPermissions = key.permissions
        let targetAllowlist = allowlist ?? key.allowlist
        let widensPermissions = targetPermissions.contains(.withdraw) && !current.contains(.withdraw)
        let widensAllowlist = targetAllowlist.isWider(than: currentAllowlist)
        let coolsDown = cooldown > 0 && (widensPermissions || widensAllowlist)
        if coolsDown {
            key.permissions = widensPermissions ? targetPermissions.subtracting(.withdraw) : targetPermissions
            key.allowlist = widensAllowlist ? targetAllowlist.narrowed(within: currentAllowlist) : targetAllowlist
        } else {
            key.allowlist = targetAllowlist
        }
        let updated = key
        let now = clock.milliseconds
        let pending =
            coolsDown
            ? PendingKeyChange(
                apiKey: updated.apiKey, permissions: targetPermissions, allowlist: targetAllowlist, requestedAt: now,
                effectiveAt: now + cooldown) : nil
        var details = Self.auditDetails(of: updated)
        if let pending {
            details["pendingPerm"] = pending.permissions.okxString
            details["pendingIp"] = pending.allowlist.okxString
            details["pendingAt"] = String(pending.effectiveAt)
        }
        let audit = origin.record(at: now, account: updated.accountUID, target: updated.apiKey, details: details, alert: .keyModified)
        try await keyWrite { () async throws(StoreError) in
            try await store.update(key: updated, pending: pending, audit: audit)
        }
        return updated
    }

    /// Revokes a key at once; the server's cache drops it before this returns. 59506 when unknown or already revoked.
    public func revoke(apiKey: String, of account: Account? = nil, reason: String, origin: AuditOrigin) async throws(OKXError) {
        let owner: String
        if let account {
            owner = try await activeKey(apiKey, of: account).accountUID
        } else {
            owner = try await mapped { () async throws(StoreError) in try await store.key(apiKey: apiKey) }?.key.accountUID ?? ""
        }
        let now = clock.milliseconds
        let audit = origin.record(at: now, account: owner, target: apiKey, details: ["reason": reason], alert: .keyRevoked)
        let revoked = try await keyWrite { () async throws(StoreError) in
            try await store.revoke(apiKey: apiKey, at: now, reason: reason, audit: audit)
        }
        guard revoked else { throw OKXError.apiKeyDoesNotExist }
    }

    /// Issues a successor that inherits every setting of `apiKey` (permissions, IPs, purpose, environment, rate limit,
    /// explicit expiry — a temporary key stays temporary) under the label with a `-rN` suffix, and keeps the old key
    /// valid only until `grace` has passed. The passphrase stays the same unless a new one is given. The new secret
    /// is returned once.
    public func rotate(apiKey: String, grace: Int64, passphrase: String? = nil, origin: AuditOrigin) async throws(OKXError) -> RotatedKey {
        guard (0...Self.maximumGrace).contains(grace) else {
            throw OKXError.parameterError("grace").with(message: "Parameter grace error: the grace period is 0 to 30 days")
        }
        let stored = try await mapped { () async throws(StoreError) in try await store.key(apiKey: apiKey) }
        let now = clock.milliseconds
        guard let stored, stored.key.status(at: now) == .active else { throw OKXError.apiKeyDoesNotExist }
        let old = stored.key
        guard old.algorithm == .hmac else {
            throw OKXError.parameterError("apiKey").with(
                message: "Parameter apiKey error: an Ed25519 key is rotated by creating a key for a new public key")
        }
        var verifier = stored.passphraseVerifier
        if let passphrase {
            try PassphrasePolicy.validate(passphrase)
            verifier = passphrases.verifier(for: passphrase)
        }
        let credentials = KeyCredentials(
            apiKey: KeyMaterial.apiKey(), secretKey: Self.newSecret(old.secretFormat), passphrase: passphrase ?? "")
        var successor = APIKey(
            apiKey: credentials.apiKey, accountUID: old.accountUID, label: Self.rotatedLabel(old.label), purpose: old.purpose,
            permissions: old.permissions, allowlist: old.allowlist, environment: old.environment, createdAt: now,
            expiresAt: old.expiresAt, rateLimit: old.rateLimit)
        successor.rotatedFrom = old.apiKey
        successor.trading = old.trading
        successor.secretFormat = old.secretFormat
        let oldExpiry = min(old.expiresAt ?? .max, now + grace)
        let sealed = try sealed(credentials)
        let newKey = successor
        let audit = origin.record(
            at: now, account: old.accountUID, target: old.apiKey,
            details: [
                "successor": newKey.apiKey, "oldKeyExpiresAt": String(oldExpiry),
                "passphraseChanged": passphrase == nil ? "false" : "true",
            ], alert: .keyRotated)
        try await keyWrite { () async throws(StoreError) in
            try await store.rotate(
                apiKey: old.apiKey, oldKeyExpiresAt: oldExpiry,
                successor: StoredKey(
                    key: newKey, sealedSecret: sealed, passphraseVerifier: verifier,
                    secretFingerprint: fingerprints.verifier(for: credentials.secretKey)), audit: audit)
        }
        return RotatedKey(key: newKey, credentials: credentials, passphraseChanged: passphrase != nil, oldKeyExpiresAt: oldExpiry)
    }

    /// The widening change waiting on a key, if any.
    public func pending(apiKey: String) async throws(OKXError) -> PendingKeyChange? {
        try await mapped { () async throws(StoreError) in try await store.pending(apiKey: apiKey) }
    }

    public func allPending() async throws(OKXError) -> [PendingKeyChange] {
        try await mapped { () async throws(StoreError) in try await store.allPending() }
    }

    /// Cancels a key's pending change; 59506 when there is none.
    public func cancelPending(apiKey: String, origin: AuditOrigin) async throws(OKXError) {
        let owner = try await mapped { () async throws(StoreError) in try await store.key(apiKey: apiKey) }?.key.accountUID ?? ""
        let audit = origin.record(at: clock.milliseconds, account: owner, target: apiKey, alert: .keyModified)
        guard try await mapped({ () async throws(StoreError) in try await store.cancelPending(apiKey: apiKey, audit: audit) }) else {
            throw OKXError.apiKeyDoesNotExist.with(message: "API key \(apiKey) has no pending change")
        }
    }

    /// Applies every pending change whose cool-down has ended; returns the keys changed.
    @discardableResult
    public func applyDueChanges() async throws(OKXError) -> [String] {
        let now = clock.milliseconds
        let origin = AuditOrigin.system("apikey.pending.apply")
        let applied = try await mapped { () async throws(StoreError) in
            try await store.applyPending(dueAt: now) { apiKey in
                origin.record(at: now, account: "", target: apiKey, alert: .keyModified)
            }
        }
        if !applied.isEmpty { await onChange() }
        return applied
    }

    /// The key a (leaked) secret belongs to, if it is one of this installation's.
    public func key(bySecret secret: String) async throws(OKXError) -> APIKey? {
        let fingerprint = fingerprints.verifier(for: secret)
        return try await mapped { () async throws(StoreError) in try await store.key(secretFingerprint: fingerprint) }?.key
    }

    /// The account a key belongs to (59506 for an unknown key).
    public func owner(of apiKey: String) async throws(OKXError) -> Account {
        let stored = try await mapped { () async throws(StoreError) in try await store.key(apiKey: apiKey) }
        guard let stored,
            let account = try await mapped({ () async throws(StoreError) in try await store.account(uid: stored.key.accountUID) })
        else { throw OKXError.apiKeyDoesNotExist }
        return account
    }

    /// Keys of an account (revoked ones too when asked), oldest first. Never a secret.
    public func keys(of account: Account, includeRevoked: Bool = false) async throws(OKXError) -> [APIKey] {
        let stored = try await mapped { () async throws(StoreError) in try await store.keys(accountUID: account.uid) }
        return stored.map(\.key).filter { includeRevoked || $0.revokedAt == nil }
    }

    /// An unrevoked key that belongs to `account`, or 59506.
    public func activeKey(_ apiKey: String, of account: Account) async throws(OKXError) -> APIKey {
        let stored = try await mapped { () async throws(StoreError) in try await store.key(apiKey: apiKey) }
        guard let key = stored?.key, key.accountUID == account.uid, key.revokedAt == nil else {
            throw OKXError.apiKeyDoesNotExist
        }
        return key
    }

    // MARK: - Helpers

    /// What an audit event says about a key: its settings, never its secret or passphrase.
    package static func auditDetails(of key: APIKey) -> [String: String] {
        var details = ["label": key.label, "perm": key.permissions.okxString, "ip": key.allowlist.okxString]
        if case .thirdParty(let app) = key.purpose { details["app"] = app }
        if let expiresAt = key.expiresAt { details["expiresAt"] = String(expiresAt) }
        return details
    }

    private static func newSecret(_ format: SecretFormat) -> String {
        switch format {
        case .hex: KeyMaterial.secret()
        case .scannable: ScannableSecret.generate()
        }
    }

    /// `bot` → `bot-r2`, `bot-r2` → `bot-r3`, within the label length limit.
    package static func rotatedLabel(_ label: String) -> String {
        var base = Substring(label), generation = 2
        if let dash = label.lastIndex(of: "-"), label[label.index(after: dash)...].first == "r",
            let n = Int(label[label.index(dash, offsetBy: 2)...]), n >= 2, n < Int.max
        {
            // A label is the caller's text: `bot-r9223372036854775807` has no next generation and gets a suffix of its own.
            base = label[..<dash]
            generation = n + 1
        }
        let suffix = "-r\(generation)"
        return String(base.prefix(maximumLabelLength - suffix.count)) + suffix
    }

    private static func validate(label: String) throws(OKXError) {
        guard !label.isEmpty else { throw OKXError.parameterEmpty("label") }
        guard label.count <= maximumLabelLength else {
            throw OKXError.parameterError("label").with(message: "Parameter label error: at most \(maximumLabelLength) characters")
        }
    }

    private func sealed(_ credentials: KeyCredentials) throws(OKXError) -> [UInt8] {
        do {
            return try sealer.seal(credentials.secretKey, for: credentials.apiKey)
        } catch {
            throw OKXError.systemError
        }
    }

    /// A key write (a label clash is 59502, see `StoreError+OKX.swift`), then the change observer runs.
    private func keyWrite<T>(_ body: () async throws(StoreError) -> T) async throws(OKXError) -> T {
        let result = try await mapped(body)
        await onChange()
        return result
    }
}
