import KeysmithCore

/// First-start initialisation: the master account and a bootstrap master API key (read, trade, withdraw; the
/// operator's own key, so not rate limited) bound to the loopback addresses, whose credentials are shown once.
///
/// ```swift
/// if let first = try await Bootstrap(accounts: accounts, keys: keys).initializeIfNeeded(allowlist: .loopback, origin: origin) {
///     show(first.credentials)   // the only time the secret and passphrase are shown
/// }
/// ```
public struct Bootstrap: Sendable {
    private let accounts: AccountService
    private let keys: KeyService

    public init(accounts: AccountService, keys: KeyService) {
        self.accounts = accounts
        self.keys = keys
    }

    /// Creates the master account and bootstrap key when the store has no master account; nil otherwise.
    public func initializeIfNeeded(allowlist: IPAllowlist, origin: AuditOrigin) async throws(OKXError) -> Initialized? {
        if try await accounts.masterIfPresent() != nil { return nil }
        let master = try await accounts.createMaster(origin: origin.with(action: "account.create-master"))
        let created = try await keys.create(
            NewKeyRequest(
                account: master, label: "bootstrap", permissions: [.readOnly, .trade, .withdraw], allowlist: allowlist,
                rateLimit: .unlimited), origin: origin.with(action: "apikey.create"))
        return Initialized(master: master, key: created.key, credentials: created.credentials)
    }

    public struct Initialized: Sendable {
        public let master: Account
        public let key: APIKey
        public let credentials: KeyCredentials
    }
}

extension IPAllowlist {
    /// `127.0.0.1` and `::1`.
    public static var loopback: IPAllowlist {
        (try? IPAllowlist(okx: "127.0.0.1,::1")) ?? .empty
    }
}
