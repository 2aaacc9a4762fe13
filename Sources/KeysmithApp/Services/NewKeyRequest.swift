import KeysmithCore

/// What a new key should be.
public struct NewKeyRequest: Sendable {
    public var account: Account
    public var label: String
    public var purpose: KeyPurpose
    public var permissions: Permissions
    public var allowlist: IPAllowlist
    /// nil: generate a compliant passphrase.
    public var passphrase: String?
    public var environment: KeyEnvironment
    public var expiresAt: Int64?
    /// nil: OKX's limits per endpoint family.
    public var rateLimit: RateLimit?
    /// Set for an Ed25519 key: the 32 raw bytes of its public key. nil: an HMAC key with a generated secret.
    public var ed25519PublicKey: [UInt8]?
    /// Instrument allowlist and USDT notional limits.
    public var trading: TradingRestrictions = .none
    /// OKX's hex secret (default) or a scannable `ks_` secret.
    public var secretFormat: SecretFormat = .hex

    public init(
        account: Account, label: String, purpose: KeyPurpose = .own, permissions: Permissions = .readOnly,
        allowlist: IPAllowlist = .empty, passphrase: String? = nil, environment: KeyEnvironment = .live,
        expiresAt: Int64? = nil, rateLimit: RateLimit? = nil
    ) {
        self.account = account
        self.label = label
        self.purpose = purpose
        self.permissions = permissions
        self.allowlist = allowlist
        self.passphrase = passphrase
        self.environment = environment
        self.expiresAt = expiresAt
        self.rateLimit = rateLimit
    }
}

extension NewKeyRequest {
    /// A key linking `app`: its purpose names the app and its allowlist is the app's addresses (kept in step when
    /// the app's addresses change).
    public init(
        account: Account, label: String, linking app: App, permissions: Permissions = .readOnly, passphrase: String? = nil,
        environment: KeyEnvironment = .live, expiresAt: Int64? = nil, rateLimit: RateLimit? = nil
    ) {
        self.init(
            account: account, label: label, purpose: .thirdParty(app: app.name), permissions: permissions,
            allowlist: app.allowlist, passphrase: passphrase, environment: environment, expiresAt: expiresAt,
            rateLimit: rateLimit)
    }
}

/// A rotated key: the successor, its once-shown credentials (`passphrase` empty when unchanged), and when the old
/// key stops working.
public struct RotatedKey: Sendable {
    public let key: APIKey
    public let credentials: KeyCredentials
    public let passphraseChanged: Bool
    public let oldKeyExpiresAt: Int64
}

/// A created key and its once-shown credentials.
public struct CreatedKey: Sendable {
    public let key: APIKey
    public let credentials: KeyCredentials
}
