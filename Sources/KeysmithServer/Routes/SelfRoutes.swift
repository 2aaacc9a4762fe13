import Hummingbird
import KeysmithApp
import KeysmithCore

/// `GET /api/v5/users/self/apikey` (Keysmith's own): what the calling key may do, where it works, when it expires
/// and why, and when and from where it was last used. Any valid key may ask about itself; never a secret.
struct SelfRoutes {
    let usage: UsageRecorder

    func register(read group: RouterGroup<AppRequestContext>) {
        group.get("users/self/apikey") { _, context in
            let cached = try context.requireKey()
            return OKXResponse([SelfKeyItem(cached, latest: usage.lastUse(cached.key.apiKey))])
        }
    }
}

struct SelfKeyItem: Encodable, Sendable {
    let apiKey: String
    let label: String
    let perm: String
    let ip: String
    let uid: String
    let subAcct: String
    let env: String
    let ts: String
    /// Effective expiry (ms) or "" when the key does not expire.
    let expTime: String
    /// "explicit", "inactivity" (OKX's 14-days-unused rule for unbound trade/withdraw keys) or "".
    let expiryReason: String
    let lastUsedTs: String
    let lastUsedIp: String
    /// "" when the key follows OKX's limits per endpoint family.
    let rateLimit: String
    let instruments: String
    let maxOrderUsdt: String
    let maxDailyUsdt: String
    /// `spot`, `swap`, `spot,swap`; empty: any.
    let products: String

    init(_ cached: CachedKey, latest: (at: Int64, ip: IPAddress?)?) {
        let key = cached.key
        let expiry = key.expiry(lastUsedAt: latest?.at)
        apiKey = key.apiKey
        label = key.label
        perm = key.permissions.okxString
        ip = key.allowlist.okxString
        uid = cached.account.uid
        subAcct = cached.account.isMaster ? "" : cached.account.name
        env = key.environment.rawValue
        ts = String(key.createdAt)
        expTime = expiry.map { String($0.at) } ?? ""
        expiryReason = expiry?.reason.rawValue ?? ""
        // This process's latest use (which includes this very request) is never older than the stored one.
        if let latest {
            lastUsedTs = String(latest.at)
            lastUsedIp = latest.ip?.description ?? ""
        } else {
            lastUsedTs = key.lastUsedAt.map(String.init) ?? ""
            lastUsedIp = key.lastUsedIP ?? ""
        }
        rateLimit = key.rateLimit?.text ?? ""
        instruments = key.trading.instruments.joined(separator: ",")
        maxOrderUsdt = key.trading.maxOrderUSDT ?? ""
        maxDailyUsdt = key.trading.maxDailyUSDT ?? ""
        products = key.trading.productsText
    }
}
