import KeysmithCore
import KeysmithStore

/// Balances, simulated deposits and transfers, shared by the OKX routes and the CLI. Each movement is validated here
/// (currency, amount, accounts, OKX's transfer `type` rules) and then written by the store in one transaction with
/// its audit event; the store alone guarantees no balance goes below zero.
///
/// ```swift
/// try await ledger.deposit(to: sub, currency: "USDT", amount: "1000", origin: .cli("deposit"))
/// let balances = try await ledger.balances(of: sub)
/// ```
public struct LedgerService: Sendable {
    private let store: any LedgerStore
    private let accounts: AccountService
    private let clock: any WallClock
    /// Where committed transfers are announced (the accounts whose balances they moved).
    private let events: TradingEvents?

    public init(store: any LedgerStore, accounts: AccountService, clock: any WallClock, events: TradingEvents? = nil) {
        self.store = store
        self.accounts = accounts
        self.clock = clock
        self.events = events
    }

    public func currencies() async throws(OKXError) -> [Currency] {
        try await mapped { () async throws(StoreError) in try await store.currencies() }
    }

    public func instruments() async throws(OKXError) -> [Instrument] {
        try await mapped { () async throws(StoreError) in try await store.instruments() }
    }

    /// The account's trading-account bills that `query` selects, newest first.
    public func bills(of account: Account, matching query: BillQuery) async throws(OKXError) -> [Bill] {
        let uid = account.uid
        return try await mapped { () async throws(StoreError) in try await store.bills(account: uid, matching: query) }
    }

    /// Adds or changes a currency (`keysmith currency set`).
    public func save(_ currency: Currency) async throws(OKXError) {
        try await mapped { () async throws(StoreError) in try await store.save(currency: currency) }
    }

    /// Adds or changes a spot instrument (`keysmith instrument set`); both currencies must exist. A running server
    /// lists it after a restart.
    public func save(_ instrument: Instrument) async throws(OKXError) {
        let base = try await currency(instrument.base, parameter: "instId")
        _ = try await currency(instrument.quote, parameter: "instId")
        // A swap's sizes count contracts, not base units.
        guard instrument.type == .swap || instrument.lotSize.scale <= base.scale else {
            throw OKXError.parameterError("lotSz").with(
                message: "Parameter lotSz error: \(base.code) counts \(base.scale) decimals, so a lot size may have at most \(base.scale)")
        }
        try await mapped { () async throws(StoreError) in try await store.save(instrument: instrument) }
    }

    /// The configured currency named `code` (case-insensitive), or 51000 naming the parameter.
    public func currency(_ code: String, parameter: String = "ccy") async throws(OKXError) -> Currency {
        let upper = code.uppercased()
        guard let currency = try await currencies().first(where: { $0.code == upper }) else {
            throw OKXError.parameterError(parameter).with(message: "Parameter \(parameter) error: \(code) is not a supported currency")
        }
        return currency
    }

    /// A positive amount of `currency` from request text; 58114 when zero or negative, 51000 when malformed.
    public func amount(_ text: String, of currency: Currency, parameter: String = "amt") throws(OKXError) -> Amount {
        guard let amount = currency.amount(text) else {
            throw OKXError.parameterError(parameter).with(
                message: "Parameter \(parameter) error: a decimal number with at most \(currency.scale) decimals")
        }
        guard amount.isPositive else { throw OKXError.transferAmountNotPositive }
        return amount
    }

    public func balances(of account: Account) async throws(OKXError) -> [StoredBalance] {
        try await mapped { () async throws(StoreError) in try await store.balances(account: account.uid) }
    }

    /// The available trading balance of `currency` of the account `uid` (0 when it never held any).
    public func tradingAvailable(account uid: String, currency: String) async throws(OKXError) -> Int64 {
        let balances = try await mapped { () async throws(StoreError) in try await store.balances(account: uid) }
        return balances.first { $0.kind == .trading && $0.currency == currency }?.available ?? 0
    }

    /// The balances of the account `uid`: a sub-account's, or one of the exchange's own (``LedgerEntry/fees``,
    /// ``LedgerEntry/clearing``, ``LedgerEntry/insurance``).
    public func balances(uid: String) async throws(OKXError) -> [StoredBalance] {
        try await mapped { () async throws(StoreError) in try await store.balances(account: uid) }
    }

    /// What the ``LedgerEntry/clearing`` account holds: the margin of every open SWAP position, less the profit it
    /// paid out beyond the losses it took in.
    public func clearingBalances() async throws(OKXError) -> [StoredBalance] {
        try await balances(uid: LedgerEntry.clearing)
    }

    /// What trading fees have collected, per currency (the ``LedgerEntry/fees`` account's trading balances).
    public func collectedFees() async throws(OKXError) -> [StoredBalance] {
        try await balances(uid: LedgerEntry.fees)
    }

    public func depositAddress(of account: Account, currency: Currency) -> String {
        DepositAddress.make(account: account.uid, chain: currency.chain)
    }

    /// Credits a simulated deposit to the account's funding balance (`keysmith deposit`).
    public func deposit(to account: Account, currency code: String, amount text: String, origin: AuditOrigin) async throws(OKXError)
        -> DepositRecord
    {
        let currency = try await currency(code)
        let amount = try amount(text, of: currency)
        guard account.depositsAllowed else {
            throw OKXError.parameterError("account").with(message: "Deposits are disabled for sub-account \(account.name)")
        }
        guard currency.canDeposit else {
            throw OKXError.parameterError("ccy").with(message: "Deposits of \(currency.code) are suspended")
        }
        let now = clock.milliseconds
        let address = depositAddress(of: account, currency: currency)
        let record = DepositRecord(
            account: account.uid, currency: currency.code, amount: amount.units, chain: currency.chain, address: address,
            txID: KeyMaterial.randomBytes(32).lowercaseHex, createdAt: now)
        let audit = origin.record(
            at: now, account: account.uid, target: "", details: ["ccy": currency.code, "amt": amount.text, "to": "6"])
        return try await mapped { () async throws(StoreError) in try await store.insert(deposit: record, audit: audit) }
    }

    public func deposits(of account: Account, currency: String?, limit: Int) async throws(OKXError) -> [DepositRecord] {
        try await mapped { () async throws(StoreError) in
            try await store.deposits(account: account.uid, currency: currency?.uppercased(), limit: limit)
        }
    }

    /// `POST /api/v5/asset/transfer` for the key's account, with OKX's `type` rules: 0 within the account, 1 master →
    /// sub and 2 sub → master (master key), 3 sub → master and 4 sub → sub (sub-account key; the sender needs the
    /// transfer-out setting, 58119 otherwise). Idempotent on clientId.
    public func transfer(_ request: TransferRequest, by caller: Account, origin: AuditOrigin) async throws(OKXError)
        -> (transfer: TransferRecord, created: Bool)
    {
        let currency = try await currency(request.currency)
        let amount = try amount(request.amount, of: currency)
        let (from, to, subAccount) = try await endpoints(of: request, caller: caller)
        if from.account == to.account && from.kind == to.kind { throw OKXError.sameFromAndTo }
        let now = clock.milliseconds
        let record = TransferRecord(
            initiator: caller.uid, clientID: request.clientID, type: request.type, currency: currency.code, amount: amount.units,
            from: from, to: to, subAccount: subAccount, createdAt: now)
        let audit = origin.record(
            at: now, account: caller.uid, target: "",
            details: [
                "ccy": currency.code, "amt": amount.text, "type": request.type, "from": "\(from.account):\(from.kind.rawValue)",
                "to": "\(to.account):\(to.kind.rawValue)", "clientId": request.clientID,
            ])
        return try await insert(record, audit: audit)
    }

    /// `POST /api/v5/asset/subaccount/transfer`: the master key moves funds between two of its sub-accounts.
    public func subAccountTransfer(
        currency code: String, amount text: String, from: String, to: String, fromSubAccount: String, toSubAccount: String,
        clientID: String, by caller: Account, origin: AuditOrigin
    ) async throws(OKXError) -> (transfer: TransferRecord, created: Bool) {
        guard caller.isMaster else { throw OKXError.masterAccountOnly }
        guard fromSubAccount != toSubAccount else { throw OKXError.transferBetweenSameSubAccount }
        let source = try await accounts.subAccount(named: fromSubAccount)
        let destination = try await accounts.subAccount(named: toSubAccount)
        let currency = try await currency(code)
        let amount = try amount(text, of: currency)
        let fromKind = try Self.kind(from, "from"), toKind = try Self.kind(to, "to")
        let now = clock.milliseconds
        let record = TransferRecord(
            initiator: caller.uid, clientID: clientID, type: "sub", currency: currency.code, amount: amount.units,
            from: (source.uid, fromKind), to: (destination.uid, toKind), subAccount: "\(fromSubAccount)>\(toSubAccount)", createdAt: now)
        let audit = origin.record(
            at: now, account: caller.uid, target: "",
            details: ["ccy": currency.code, "amt": amount.text, "from": fromSubAccount, "to": toSubAccount])
        return try await insert(record, audit: audit)
    }

    /// A transfer the caller's account made or took part in, by id or clientId; nil when there is none.
    public func transfer(id: String?, clientID: String?, for caller: Account) async throws(OKXError) -> TransferRecord? {
        let found: TransferRecord?
        if let id {
            guard let number = Int64(id) else { throw OKXError.parameterError("transId") }
            found = try await mapped { () async throws(StoreError) in try await store.transfer(id: number) }
        } else if let clientID {
            found = try await mapped { () async throws(StoreError) in try await store.transfer(clientID: clientID, initiator: caller.uid) }
        } else {
            throw OKXError.eitherParameterRequired("transId", "clientId")
        }
        guard let found, [found.initiator, found.from.account, found.to.account].contains(caller.uid) else { return nil }
        return found
    }

    /// Sum of every ledger line and of every balance per currency: the first is zero and the second equals deposits
    /// minus completed withdrawals when the books balance.
    public func totals() async throws(OKXError) -> [String: (entries: Int64, balances: Int64)] {
        try await mapped { () async throws(StoreError) in try await store.totals() }
    }

    // MARK: - Helpers

    /// Writes a transfer; a short source balance is 58116.
    private func insert(_ record: TransferRecord, audit: AuditRecord) async throws(OKXError) -> (transfer: TransferRecord, created: Bool) {
        do {
            let inserted = try await store.insert(transfer: record, audit: audit)
            if inserted.created, let events {
                var event = TradingEvent(instrument: nil)
                event.accounts = [record.from.account, record.to.account]
                event.cause = "transferred"
                events.publish(event)
            }
            return inserted
        } catch where error.kind == .insufficientFunds {
            throw OKXError.transferExceedsAvailable
        } catch {
            throw error.okxError
        }
    }

    /// Source, destination and the named sub-account of an `asset/transfer` request, checked against the caller.
    private func endpoints(of request: TransferRequest, caller: Account) async throws(OKXError)
        -> (from: (account: String, kind: BalanceKind), to: (account: String, kind: BalanceKind), subAccount: String)
    {
        let from = try Self.kind(request.from, "from"), to = try Self.kind(request.to, "to")
        switch request.type {
        case "0":
            return ((caller.uid, from), (caller.uid, to), "")
        case "1", "2":
            guard caller.isMaster else { throw OKXError.subKeyTransferType }
            guard let name = request.subAccount else { throw OKXError.parameterMismatch("subAcct") }
            let sub = try await accounts.subAccount(named: name)
            if request.type == "1" { return ((caller.uid, from), (sub.uid, to), name) }
            return ((sub.uid, from), (caller.uid, to), name)
        case "3":
            guard !caller.isMaster, let master = caller.parentUID else { throw OKXError.masterKeyTransferType }
            return ((caller.uid, from), (master, to), "")
        case "4":
            guard !caller.isMaster else { throw OKXError.masterKeyTransferType }
            guard caller.canTransferOut else { throw OKXError.noTransferOutPermission(caller.name) }
            guard let name = request.subAccount else { throw OKXError.parameterMismatch("subAcct") }
            let sibling = try await accounts.subAccount(named: name)
            guard sibling.uid != caller.uid else { throw OKXError.transferBetweenSameSubAccount }
            return ((caller.uid, from), (sibling.uid, to), name)
        default:
            throw OKXError.parameterError("type")
        }
    }

    private static func kind(_ text: String, _ parameter: String) throws(OKXError) -> BalanceKind {
        guard let kind = BalanceKind(rawValue: text) else {
            throw OKXError.parameterError(parameter).with(message: "Parameter \(parameter) error: 6 (funding) or 18 (trading)")
        }
        return kind
    }
}

/// An `asset/transfer` request as sent (validated by ``LedgerService``).
public struct TransferRequest: Sendable, Hashable {
    public var type: String
    public var currency: String
    public var amount: String
    public var from: String
    public var to: String
    public var subAccount: String?
    public var clientID: String

    public init(
        type: String = "0", currency: String, amount: String, from: String, to: String, subAccount: String? = nil, clientID: String = ""
    ) {
        self.type = type
        self.currency = currency
        self.amount = amount
        self.from = from
        self.to = to
        self.subAccount = subAccount
        self.clientID = clientID
    }
}
