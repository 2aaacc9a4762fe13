import KeysmithCore

/// Balances and the movements between them, persisted. Every movement is written as double-entry lines with the
/// balance changes and its audit event in one transaction; a balance can never go below zero — the database
/// refuses it (a CHECK constraint), so concurrent movements racing for one balance cannot overdraw it.
public protocol LedgerStore: Sendable {
    func currencies() async throws(StoreError) -> [Currency]
    func instruments() async throws(StoreError) -> [Instrument]
    /// Adds or replaces an instrument; `.duplicate` when an existing one with orders would change its tick or lot scale.
    func save(instrument: Instrument) async throws(StoreError)
    /// Adds or replaces a currency; `.duplicate` when an existing one's scale would change while balances of it exist.
    func save(currency: Currency) async throws(StoreError)
    /// Every balance the account has ever held (zero ones included), by kind and currency.
    func balances(account: String) async throws(StoreError) -> [StoredBalance]
    /// A simulated deposit: the record, its movement from the world and the audit event, in one transaction.
    func insert(deposit: DepositRecord, audit: AuditRecord) async throws(StoreError) -> DepositRecord
    func deposits(account: String, currency: String?, limit: Int) async throws(StoreError) -> [DepositRecord]
    /// A transfer, idempotent on the initiator's `clientId`: when one with that clientId exists it is returned (with
    /// `created` false) and nothing moves. `.insufficientFunds` when the source balance is short.
    func insert(transfer: TransferRecord, audit: AuditRecord) async throws(StoreError) -> (transfer: TransferRecord, created: Bool)
    func transfer(id: Int64) async throws(StoreError) -> TransferRecord?
    func transfer(clientID: String, initiator: String) async throws(StoreError) -> TransferRecord?
    /// Per currency, the sum of every ledger line (zero when the books balance) and of every balance.
    func totals() async throws(StoreError) -> [String: (entries: Int64, balances: Int64)]
    /// The account's trading-account bills that `query` selects, newest first (see ``Bill``).
    func bills(account: String, matching query: BillQuery) async throws(StoreError) -> [Bill]
}

/// One balance of one account.
public struct StoredBalance: Sendable, Hashable {
    public var kind: BalanceKind
    public var currency: String
    public var available: Int64
    public var frozen: Int64
    public var updatedAt: Int64

    public init(kind: BalanceKind, currency: String, available: Int64, frozen: Int64, updatedAt: Int64) {
        self.kind = kind
        self.currency = currency
        self.available = available
        self.frozen = frozen
        self.updatedAt = updatedAt
    }
}

public struct DepositRecord: Sendable, Hashable {
    public var id: Int64
    public var account: String
    public var currency: String
    public var amount: Int64
    public var chain: String
    public var address: String
    public var txID: String
    public var createdAt: Int64

    public init(id: Int64 = 0, account: String, currency: String, amount: Int64, chain: String, address: String, txID: String, createdAt: Int64) {
        self.id = id
        self.account = account
        self.currency = currency
        self.amount = amount
        self.chain = chain
        self.address = address
        self.txID = txID
        self.createdAt = createdAt
    }
}

public struct TransferRecord: Sendable, Hashable {
    public var id: Int64
    /// The account whose key asked for it (clientIds are unique per initiator).
    public var initiator: String
    public var clientID: String
    /// OKX `type` 0–4 (or `sub` for the master's sub-to-sub transfer).
    public var type: String
    public var currency: String
    public var amount: Int64
    public var from: (account: String, kind: BalanceKind)
    public var to: (account: String, kind: BalanceKind)
    /// The sub-account name the request named, echoed by transfer-state.
    public var subAccount: String
    public var state: String
    public var createdAt: Int64

    public init(
        id: Int64 = 0, initiator: String, clientID: String, type: String, currency: String, amount: Int64,
        from: (account: String, kind: BalanceKind), to: (account: String, kind: BalanceKind), subAccount: String,
        state: String = "success", createdAt: Int64
    ) {
        self.id = id
        self.initiator = initiator
        self.clientID = clientID
        self.type = type
        self.currency = currency
        self.amount = amount
        self.from = from
        self.to = to
        self.subAccount = subAccount
        self.state = state
        self.createdAt = createdAt
    }

    public static func == (lhs: TransferRecord, rhs: TransferRecord) -> Bool {
        lhs.id == rhs.id && lhs.initiator == rhs.initiator && lhs.clientID == rhs.clientID && lhs.type == rhs.type
            && lhs.currency == rhs.currency && lhs.amount == rhs.amount && lhs.from == rhs.from && lhs.to == rhs.to
            && lhs.subAccount == rhs.subAccount && lhs.state == rhs.state && lhs.createdAt == rhs.createdAt
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(initiator)
        hasher.combine(clientID)
    }

    /// The movement this transfer makes.
    public var movement: LedgerMovement {
        LedgerMovement.move(amount, of: currency, from: from, to: to)
    }
}
