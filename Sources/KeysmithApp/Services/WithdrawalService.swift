import KeysmithCore
import KeysmithStore

/// Withdrawals as OKX rules them: master-account keys only (58209), to an address on the account's allowlist
/// (58203 when it has none for the currency, 58207 when the address is not on it), within the currency's minimum
/// (58206), maximum (58205) and daily limit (58201), with the fee on top, from the funding balance (58350). A
/// request freezes amount + fee and waits for the operator (`keysmith withdrawal approve|reject`); the caller may
/// cancel it while it waits. Requests raise a `withdrawal.requested` alert.
///
/// ```swift
/// let wd = try await withdrawals.request(WithdrawalRequest(currency: "USDT", amount: "10", address: "T…"), by: master, origin: origin)
/// try await withdrawals.approve(id: wd.id, origin: .cli("withdrawal.approve"))
/// ```
public struct WithdrawalService: Sendable {
    private let store: any WithdrawalStore
    private let ledger: LedgerService
    private let clock: any WallClock

    public init(store: any WithdrawalStore, ledger: LedgerService, clock: any WallClock) {
        self.store = store
        self.ledger = ledger
        self.clock = clock
    }

    // MARK: - Address allowlist

    public func addAddress(_ address: String, label: String, currency code: String, for account: Account, origin: AuditOrigin)
        async throws(OKXError) -> WithdrawalAddress
    {
        let currency = try await ledger.currency(code)
        guard !address.isEmpty, address.count <= 128, address.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw OKXError.parameterError("toAddr").with(message: "Parameter toAddr error: 1–128 printable characters, no spaces")
        }
        let entry = WithdrawalAddress(
            account: account.uid, currency: currency.code, address: address, label: label, createdAt: clock.milliseconds)
        let audit = origin.record(
            at: entry.createdAt, account: account.uid, target: address, details: ["ccy": currency.code, "label": label])
        try await mapped { () async throws(StoreError) in try await store.add(address: entry, audit: audit) }
        return entry
    }

    public func removeAddress(_ address: String, currency code: String, for account: Account, origin: AuditOrigin) async throws(OKXError) {
        let currency = try await ledger.currency(code)
        let audit = origin.record(at: clock.milliseconds, account: account.uid, target: address, details: ["ccy": currency.code])
        let removed = try await mapped { () async throws(StoreError) in
            try await store.removeAddress(account: account.uid, currency: currency.code, address: address, audit: audit)
        }
        guard removed else { throw OKXError.withdrawalAddressNotVerified }
    }

    public func addresses(of account: Account, currency: String? = nil) async throws(OKXError) -> [WithdrawalAddress] {
        try await mapped { () async throws(StoreError) in try await store.addresses(account: account.uid, currency: currency?.uppercased()) }
    }

    // MARK: - Withdrawals

    public func request(_ request: WithdrawalRequest, by account: Account, origin: AuditOrigin) async throws(OKXError)
        -> (withdrawal: WithdrawalRecord, created: Bool)
    {
        guard account.isMaster else { throw OKXError.subAccountCannotWithdraw }
        let currency = try await ledger.currency(request.currency)
        guard let amount = currency.amount(request.amount) else {
            throw OKXError.parameterError("amt").with(message: "Parameter amt error: a decimal number with at most \(currency.scale) decimals")
        }
        guard amount.isPositive else { throw OKXError.parameterError("amt") }
        if let dest = request.destination, dest != "4" { throw OKXError.withdrawalNotSupported(currency.code, "an internal account") }
        if let chain = request.chain, chain != currency.chain { throw OKXError.withdrawalNotSupported(currency.code, chain) }
        guard currency.canWithdraw else { throw OKXError.withdrawalNotSupported(currency.code, currency.chain) }
        if let feeText = request.fee {
            guard let fee = currency.amount(feeText), fee >= currency.withdrawalFee else {
                throw OKXError.parameterError("fee").with(message: "Parameter fee error: the fee is \(currency.withdrawalFee.text)")
            }
        }
        let allowed = try await addresses(of: account, currency: currency.code)
        guard !allowed.isEmpty else { throw OKXError.addWithdrawalAddress }
        guard allowed.contains(where: { $0.address == request.address }) else { throw OKXError.withdrawalAddressNotVerified }
        guard amount >= currency.minimumWithdrawal else { throw OKXError.withdrawalBelowMinimum }
        guard amount <= currency.maximumWithdrawal else { throw OKXError.withdrawalAboveMaximum }
        // The request freezes amount + fee: a sum beyond 64 bits is above any limit.
        guard amount.adding(currency.withdrawalFee) != nil else { throw OKXError.withdrawalAboveMaximum }
        let now = clock.milliseconds
        let record = WithdrawalRecord(
            account: account.uid, clientID: request.clientID, currency: currency.code, chain: currency.chain, amount: amount.units,
            fee: currency.withdrawalFee.units, address: request.address, createdAt: now, updatedAt: now)
        let audit = origin.record(
            at: now, account: account.uid, target: "",
            details: ["ccy": currency.code, "amount": amount.text, "fee": currency.withdrawalFee.text, "toAddr": request.address],
            alert: .withdrawalRequested)
        do {
            return try await store.request(
                record, dailyLimit: currency.dailyWithdrawalLimit.units, dayStart: now - now % 86_400_000, audit: audit)
        } catch where error.kind == .outOfRange {
            throw OKXError.withdrawalAboveMaximum
        } catch {
            throw error.okxError
        }
    }

    /// The operator sends a pending withdrawal: its frozen funds leave the exchange.
    public func approve(id: Int64, origin: AuditOrigin) async throws(OKXError) -> WithdrawalRecord {
        try await settle(id: id, to: .completed, txID: KeyMaterial.randomBytes(32).lowercaseHex, origin: origin)
    }

    /// The operator refuses a pending withdrawal: its funds return to the available balance.
    public func reject(id: Int64, origin: AuditOrigin) async throws(OKXError) -> WithdrawalRecord {
        try await settle(id: id, to: .rejected, txID: "", origin: origin)
    }

    /// `cancel-withdrawal`: the account's own pending withdrawal (58215 when unknown, 58216 when no longer pending).
    public func cancel(id text: String, by account: Account, origin: AuditOrigin) async throws(OKXError) -> WithdrawalRecord {
        guard let id = Int64(text),
            let existing = try await mapped({ () async throws(StoreError) in try await store.withdrawal(id: id) }),
            existing.account == account.uid
        else { throw OKXError.withdrawalDoesNotExist }
        guard existing.state == .pending else { throw OKXError.withdrawalOperationNotAllowed }
        return try await settle(id: id, to: .canceled, txID: "", origin: origin)
    }

    public func withdrawals(of account: Account?, state: WithdrawalState? = nil, limit: Int = 100) async throws(OKXError)
        -> [WithdrawalRecord]
    {
        try await mapped { () async throws(StoreError) in try await store.withdrawals(account: account?.uid, state: state, limit: limit) }
    }

    private func settle(id: Int64, to state: WithdrawalState, txID: String, origin: AuditOrigin) async throws(OKXError) -> WithdrawalRecord {
        let now = clock.milliseconds
        let audit = origin.record(at: now, account: "", target: String(id), details: ["state": state.name])
        do {
            return try await store.settle(id: id, to: state, txID: txID, at: now, audit: audit)
        } catch {
            throw error.okxError
        }
    }
}

/// A `POST /api/v5/asset/withdrawal` request as sent.
public struct WithdrawalRequest: Sendable, Hashable {
    public var currency: String
    public var amount: String
    public var address: String
    /// `dest`: "4" on-chain (the only kind simulated); nil when absent.
    public var destination: String?
    public var chain: String?
    public var fee: String?
    public var clientID: String

    public init(
        currency: String, amount: String, address: String, destination: String? = nil, chain: String? = nil, fee: String? = nil,
        clientID: String = ""
    ) {
        self.currency = currency
        self.amount = amount
        self.address = address
        self.destination = destination
        self.chain = chain
        self.fee = fee
        self.clientID = clientID
    }
}
