import KeysmithCore

/// Withdrawal addresses (an allowlist per account and currency) and withdrawals. A withdrawal request freezes the
/// amount plus fee in the funding balance; approval sends it to the world, rejection or cancellation unfreezes
/// it — each in one transaction with its audit event.
public protocol WithdrawalStore: Sendable {
    func add(address: WithdrawalAddress, audit: AuditRecord) async throws(StoreError)
    /// False when there was no such address.
    func removeAddress(account: String, currency: String, address: String, audit: AuditRecord) async throws(StoreError) -> Bool
    func addresses(account: String, currency: String?) async throws(StoreError) -> [WithdrawalAddress]
    /// Freezes amount + fee and records the pending withdrawal; idempotent on the account's clientId (the existing
    /// one is returned with `created` false). `.limitReached` when `dailyLimit` (units, per UTC day from
    /// `dayStart`) would be exceeded; `.insufficientFunds` when the funding balance is short.
    func request(_ withdrawal: WithdrawalRecord, dailyLimit: Int64, dayStart: Int64, audit: AuditRecord) async throws(StoreError)
        -> (withdrawal: WithdrawalRecord, created: Bool)
    /// Moves a pending withdrawal to `state` (completed: the frozen funds leave; anything else: they return).
    /// `.notFound` when it is not pending.
    func settle(id: Int64, to state: WithdrawalState, txID: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
        -> WithdrawalRecord
    func withdrawal(id: Int64) async throws(StoreError) -> WithdrawalRecord?
    func withdrawals(account: String?, state: WithdrawalState?, limit: Int) async throws(StoreError) -> [WithdrawalRecord]
}

public struct WithdrawalAddress: Sendable, Hashable {
    public var account: String
    public var currency: String
    public var address: String
    public var label: String
    public var createdAt: Int64

    public init(account: String, currency: String, address: String, label: String, createdAt: Int64) {
        self.account = account
        self.currency = currency
        self.address = address
        self.label = label
        self.createdAt = createdAt
    }
}

/// OKX's withdrawal states for the ones a simulated exchange goes through.
public enum WithdrawalState: String, Sendable, Hashable, CaseIterable {
    /// Waiting for the operator (`keysmith withdrawal approve|reject`).
    case pending = "0"
    case completed = "2"
    case rejected = "-1"
    case canceled = "-2"

    public var name: String {
        switch self {
        case .pending: "pending"
        case .completed: "completed"
        case .rejected: "rejected"
        case .canceled: "canceled"
        }
    }
}

public struct WithdrawalRecord: Sendable, Hashable {
    public var id: Int64
    public var account: String
    public var clientID: String
    public var currency: String
    public var chain: String
    public var amount: Int64
    public var fee: Int64
    public var address: String
    public var state: WithdrawalState
    public var txID: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: Int64 = 0, account: String, clientID: String, currency: String, chain: String, amount: Int64, fee: Int64, address: String,
        state: WithdrawalState = .pending, txID: String = "", createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.account = account
        self.clientID = clientID
        self.currency = currency
        self.chain = chain
        self.amount = amount
        self.fee = fee
        self.address = address
        self.state = state
        self.txID = txID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension WithdrawalRecord {
    /// Amount plus fee, what a request freezes; nil when the two do not fit 64 bits together (such a request is refused).
    public var total: Int64? {
        let (sum, overflow) = amount.addingReportingOverflow(fee)
        return overflow ? nil : sum
    }

    /// The ledger movement that settles this pending withdrawal: completed, its frozen amount and fee leave for the
    /// world; otherwise they return to the available balance.
    func settlement(to state: WithdrawalState) throws(StoreError) -> LedgerMovement {
        guard let total else { throw StoreError.outOfRange("the amount and fee do not fit") }
        guard state == .completed else { return .freeze(-total, of: currency, in: account, kind: .funding) }
        return LedgerMovement(entries: [
            LedgerEntry(account: account, kind: .funding, currency: currency, frozenDelta: -total),
            LedgerEntry(account: LedgerEntry.world, kind: .funding, currency: currency, availableDelta: total),
        ])
    }
}
