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

    public func status(at now: Int64) -> KeyStatus {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }
}

public enum KeyStatus: String, Sendable, Hashable {
    case active, expired, revoked
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
