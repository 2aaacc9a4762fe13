import KeysmithApp
import KeysmithCore
import KeysmithStore

// What `keysmith apikey …` prints with --json. Never a secret, except the create and rotate output shown once.

struct PendingJSON: Encodable {
    let apiKey: String
    let perm: String
    let ip: String
    let requestedAt: String
    let effectiveAt: String

    init(_ change: PendingKeyChange) {
        apiKey = change.apiKey
        perm = change.permissions.okxString
        ip = change.allowlist.okxString
        requestedAt = String(change.requestedAt)
        effectiveAt = String(change.effectiveAt)
    }
}

struct AuditFindingJSON: Encodable {
    let apiKey: String
    let subAcct: String
    let label: String
    let finding: String
    let fix: String
}

struct CreatedKeyJSON: Encodable {
    let apiKey: String
    let secretKey: String
    let passphrase: String
    let label: String
    let perm: String
    let ip: String
    let subAcct: String
    /// "hmac", or "ed25519" (then `secretKey` is empty: the holder signs with the private key).
    let algorithm: String
}

struct KeyJSON: Encodable {
    let apiKey: String
    let subAcct: String
    let accountUid: String
    let label: String
    let perm: String
    let ip: String
    let env: String
    let status: String
    let purpose: String
    let app: String
    let algorithm: String
    /// Comma list; empty: any instrument.
    let instruments: String
    let maxOrderUsdt: String
    let maxDailyUsdt: String
    /// `spot`, `swap`, `spot,swap`; empty: any.
    let products: String
    let ts: String
    /// Effective expiry: the explicit one, or 14 days after last use for unbound trade/withdraw keys.
    let expiresAt: String
    /// "explicit", "inactivity" or "".
    let expiryReason: String
    let lastUsedAt: String
    let lastUsedIp: String
    /// Empty: OKX's limits per endpoint family.
    let rateLimit: String
    /// A widening change waiting out the cool-down, if any.
    let pending: PendingJSON?

    init(_ key: APIKey, account: Account, now: Int64, pending: PendingKeyChange? = nil) {
        self.pending = pending.map(PendingJSON.init)
        apiKey = key.apiKey
        subAcct = account.isMaster ? "" : account.name
        accountUid = account.uid
        label = key.label
        perm = key.permissions.okxString
        ip = key.allowlist.okxString
        env = key.environment.rawValue
        status = key.status(at: now).rawValue
        purpose = key.purpose.name
        algorithm = key.algorithm.rawValue
        instruments = key.trading.instruments.joined(separator: ",")
        maxOrderUsdt = key.trading.maxOrderUSDT ?? ""
        maxDailyUsdt = key.trading.maxDailyUSDT ?? ""
        products = key.trading.productsText
        app = key.purpose.app ?? ""
        ts = String(key.createdAt)
        let expiry = key.expiry()
        expiresAt = expiry.map { String($0.at) } ?? ""
        expiryReason = expiry?.reason.rawValue ?? ""
        lastUsedAt = key.lastUsedAt.map(String.init) ?? ""
        lastUsedIp = key.lastUsedIP ?? ""
        rateLimit = key.rateLimit?.text ?? ""
    }
}
