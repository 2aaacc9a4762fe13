import KeysmithCore
import KeysmithStore

/// Creates and lists accounts. Used by the OKX routes and the CLI alike, so both enforce the same rules.
///
/// ```swift
/// let sub = try await accounts.createSubAccount(SubAccountRequest(name: "bot01trader"), origin: .system("example"))
/// ```
public struct AccountService: Sendable {
    private let store: any KeyStore
    private let clock: any WallClock
    /// Called after an account change its keys carry (its modes), so this node's key cache reloads at once.
    private let onChange: @Sendable () async -> Void

    public init(store: any KeyStore, clock: any WallClock, onChange: @escaping @Sendable () async -> Void = {}) {
        self.store = store
        self.clock = clock
        self.onChange = onChange
    }

    /// Changes the account's mode (`set-account-level`) and position mode (`set-position-mode`), audited; 59000
    /// while it has open SWAP orders. The next request signed with one of its keys sees the new modes on this node,
    /// and other nodes within their key cache's refresh.
    public func setModes(_ account: Account, level: AccountLevel? = nil, positionMode: PositionMode? = nil, origin: AuditOrigin)
        async throws(OKXError) -> Account
    {
        var changed = account
        changed.level = level ?? account.level
        changed.positionMode = positionMode ?? account.positionMode
        let audit = origin.record(
            at: clock.milliseconds, account: account.uid, target: account.name,
            details: ["acctLv": changed.level.rawValue, "posMode": changed.positionMode.rawValue])
        let (uid, newLevel, newMode) = (account.uid, changed.level, changed.positionMode)
        let found = try await mapped { () async throws(StoreError) in
            try await store.setModes(accountUID: uid, level: newLevel, positionMode: newMode, audit: audit)
        }
        guard found else { throw OKXError.subAccountDoesNotExist }
        await onChange()
        return changed
    }

    /// The master account, or nil before initialisation.
    public func masterIfPresent() async throws(OKXError) -> Account? {
        try await mapped { () async throws(StoreError) in try await store.masterAccount() }
    }

    /// The account with this uid, or nil.
    public func account(uid: String) async throws(OKXError) -> Account? {
        try await mapped { () async throws(StoreError) in try await store.account(uid: uid) }
    }

    public func master() async throws(OKXError) -> Account {
        guard let master = try await masterIfPresent() else {
            throw OKXError.systemError.with(message: "Keysmith is not initialised: run `keysmith init`")
        }
        return master
    }

    /// Creates the master account; fails with 50071 when one exists.
    public func createMaster(label: String = "master", origin: AuditOrigin) async throws(OKXError) -> Account {
        let account = Account(
            uid: KeyMaterial.accountUID(), parentUID: nil, name: label, type: .master, level: .spotAndFutures,
            positionMode: .net, depositsAllowed: true, frozen: false, label: label, createdAt: clock.milliseconds)
        let audit = origin.record(at: account.createdAt, account: account.uid, target: label)
        try await mapped { () async throws(StoreError) in try await store.insert(account: account, audit: audit) }
        return account
    }

    /// Freezes (or unfreezes) a sub-account: while frozen, every request signed with one of its keys answers 50100
    /// on every node as soon as its key cache has refreshed. The master account cannot be frozen.
    public func setFrozen(_ name: String, _ frozen: Bool, origin: AuditOrigin) async throws(OKXError) -> Account {
        var account = try await subAccount(named: name)
        let audit = origin.record(
            at: clock.milliseconds, account: account.uid, target: account.name, details: ["frozen": String(frozen)],
            alert: frozen ? .permissionDenied : nil)
        let changed = try await mapped { () async throws(StoreError) in try await store.setFrozen(accountUID: account.uid, frozen: frozen, audit: audit) }
        guard changed else { throw OKXError.subAccountDoesNotExist }
        account.frozen = frozen
        return account
    }

    public func createSubAccount(_ request: SubAccountRequest, origin: AuditOrigin) async throws(OKXError) -> Account {
        try SubAccountName.validate(request.name)
        guard request.label.count <= 50 else {
            throw OKXError.parameterError("label").with(message: "Parameter label error: at most 50 characters")
        }
        let master = try await master()
        let account = Account(
            uid: KeyMaterial.accountUID(), parentUID: master.uid, name: request.name, type: .standard,
            level: request.level, positionMode: request.positionMode, depositsAllowed: request.depositsAllowed,
            frozen: false, label: request.label, canTransferOut: request.canTransferOut, createdAt: clock.milliseconds)
        let audit = origin.record(
            at: account.createdAt, account: account.uid, target: account.name,
            details: ["acctLv": account.level.rawValue, "posMode": account.positionMode.rawValue, "deposits": String(account.depositsAllowed)])
        try await mapped { () async throws(StoreError) in try await store.insert(account: account, audit: audit) }
        return account
    }

    public func subAccounts() async throws(OKXError) -> [Account] {
        let master = try await master()
        return try await mapped { () async throws(StoreError) in try await store.subAccounts(parentUID: master.uid) }
    }

    /// The named sub-account of the master, or 58115.
    public func subAccount(named name: String) async throws(OKXError) -> Account {
        let master = try await master()
        guard let account = try await mapped({ () async throws(StoreError) in try await store.subAccount(named: name, parentUID: master.uid) })
        else { throw OKXError.subAccountDoesNotExist }
        return account
    }
}

/// What `create-subaccount` and `keysmith subaccount create` ask for (seed 000's form).
public struct SubAccountRequest: Sendable {
    public var name: String
    public var label: String
    public var level: AccountLevel
    public var positionMode: PositionMode
    public var depositsAllowed: Bool
    /// May send funds to sibling sub-accounts with its own key (transfer type 4).
    public var canTransferOut: Bool

    public init(
        name: String, label: String = "", level: AccountLevel = .spotAndFutures, positionMode: PositionMode = .net,
        depositsAllowed: Bool = true, canTransferOut: Bool = false
    ) {
        self.canTransferOut = canTransferOut
        self.name = name
        self.label = label
        self.level = level
        self.positionMode = positionMode
        self.depositsAllowed = depositsAllowed
    }
}
