/// An API key's public description: everything but its secret and passphrase, which never leave the store sealed.
///
/// ```swift
/// key.permissions.contains(.trade)   // may it trade?
/// key.status(at: now)                // .active, .expired or .revoked
/// ```
public struct APIKey: Sendable, Hashable {
    /// The public key id clients send as `OK-ACCESS-KEY` (a UUID string).
    public var apiKey: String
    public var accountUID: String
    public var label: String
    public var purpose: KeyPurpose
    /// Always includes `read_only`.
    public var permissions: Permissions {
        didSet { permissions.insert(.readOnly) }
    }
    public var allowlist: IPAllowlist
    public var environment: KeyEnvironment
    /// Milliseconds since the epoch.
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var revokedAt: Int64?
    public var revokeReason: String?
    /// Per-key override of the endpoint rate limits; nil follows OKX's limits per endpoint family.
    public var rateLimit: RateLimit?
    /// When and from where the key last authenticated a request (as last stored; the server also keeps newer
    /// uses in memory until it writes them).
    public var lastUsedAt: Int64?
    public var lastUsedIP: String?
    /// The key this one replaced by rotation, if any.
    public var rotatedFrom: String?
    /// HMAC-SHA256 with a secret Keysmith seals, or Ed25519 with a public key only.
    public var algorithm: SignatureAlgorithm = .hmac
    /// The shape of an HMAC key's secret: OKX's 32 hex characters, or a scannable `ks_` secret.
    public var secretFormat: SecretFormat = .hex
    /// Instrument allowlist and USDT notional limits (enforced by the ledger on orders).
    public var trading: TradingRestrictions = .none

    public init(
        apiKey: String, accountUID: String, label: String, purpose: KeyPurpose = .own, permissions: Permissions,
        allowlist: IPAllowlist, environment: KeyEnvironment, createdAt: Int64, expiresAt: Int64? = nil,
        revokedAt: Int64? = nil, revokeReason: String? = nil, rateLimit: RateLimit? = nil
    ) {
        self.apiKey = apiKey
        self.accountUID = accountUID
        self.label = label
        self.purpose = purpose
        self.permissions = permissions.union(.readOnly)
        self.allowlist = allowlist
        self.environment = environment
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.revokeReason = revokeReason
        self.rateLimit = rateLimit
    }

    /// OKX's rule: a live key with trade or withdraw permission and no IP binding expires after this long unused.
    public static let inactivityLimit: Int64 = 14 * 86_400_000

    /// Whether the inactivity rule applies to this key (demo keys and IP-bound or read-only keys are exempt).
    public var expiresWhenUnused: Bool {
        environment == .live && allowlist.isEmpty && (permissions.contains(.trade) || permissions.contains(.withdraw))
    }

    /// When the key stops working, and why: the earlier of its explicit expiry and, where the inactivity rule
    /// applies, 14 days after its last use (or creation, if never used). nil: it does not expire.
    public func expiry(lastUsedAt lastUse: Int64? = nil) -> (at: Int64, reason: ExpiryReason)? {
        var result = expiresAt.map { (at: $0, reason: ExpiryReason.explicit) }
        if expiresWhenUnused {
            let inactive = max(lastUse ?? 0, lastUsedAt ?? 0, createdAt) + Self.inactivityLimit
            if inactive < (result?.at ?? .max) { result = (inactive, .inactivity) }
        }
        return result
    }

    public func status(at now: Int64, lastUsedAt lastUse: Int64? = nil) -> KeyStatus {
        if revokedAt != nil { return .revoked }
        if let expiry = expiry(lastUsedAt: lastUse), expiry.at <= now { return .expired }
        return .active
    }
}

public enum KeyStatus: String, Sendable, Hashable {
    case active, expired, revoked
}

/// The shape of a generated secret.
public enum SecretFormat: String, Sendable, Hashable {
    /// 32 uppercase hex characters, as OKX issues.
    case hex
    /// `ks_…` with a checksum, findable by `keysmith scan` (``ScannableSecret``).
    case scannable
}

/// Why a key expires: a date set for it, or OKX's 14-days-unused rule for unbound trade/withdraw keys.
public enum ExpiryReason: String, Sendable, Hashable {
    case explicit
    case inactivity
}

/// What a key is for: the holder's own use, or linking a named third-party app (seed 000).
public enum KeyPurpose: Sendable, Hashable {
    case own
    case thirdParty(app: String)

    /// `own` or `third_party`.
    public var name: String {
        switch self {
        case .own: "own"
        case .thirdParty: "third_party"
        }
    }

    public var app: String? {
        if case .thirdParty(let app) = self { return app }
        return nil
    }
}

/// Live or demo trading. A request's `x-simulated-trading` header must match the key's environment (else 50101);
/// a missing header means live.
public enum KeyEnvironment: String, Sendable, Hashable {
    case live
    case demo

    /// Reads `x-simulated-trading`: absent or "0" is live, "1" is demo, anything else is neither.
    public init?(simulatedTradingHeader value: String?) {
        switch value {
        case nil, "0": self = .live
        case "1": self = .demo
        default: return nil
        }
    }
}
