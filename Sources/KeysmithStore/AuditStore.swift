import KeysmithCore

/// The tamper-evident audit log, persisted. Appends chain each record after the current head inside one write
/// transaction (writers are serialised, so the chain has one order even with the CLI and the server writing);
/// records that raise an alert get their outbox rows in that same transaction.
///
/// Stores of state (keys, later the ledger) take an ``AuditRecord`` with each write and append it in the write's
/// own transaction: a change and its audit event commit together or not at all.
public protocol AuditStore: Sendable {
    /// Appends records in one transaction; for each first use of a key from an address (`firstUses` not yet seen)
    /// it also appends the record `firstUseRecord` makes. Returns the new head.
    @discardableResult
    func append(
        _ records: [AuditRecord], firstUses: [KeyAddressUse], firstUseRecord: @escaping @Sendable (KeyAddressUse) -> AuditRecord
    ) async throws(StoreError) -> AuditChain.Head
    func head() async throws(StoreError) -> AuditChain.Head
    /// Where the retained chain starts: genesis, or the last event archived away.
    func anchor() async throws(StoreError) -> AuditChain.Head
    /// Events after `sequence` in chain order, at most `limit`.
    func events(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditEvent]
    /// The newest matching events, newest last.
    func search(_ query: AuditQuery) async throws(StoreError) -> [AuditEvent]
    func checkpoints() async throws(StoreError) -> [AuditCheckpoint]
    func add(_ checkpoint: AuditCheckpoint) async throws(StoreError)
    /// Deletes events up to and including `sequence` after `save` has stored them, and moves the anchor there.
    func archive(through sequence: Int64, to destination: String, at time: Int64, save: @escaping @Sendable ([AuditEvent]) throws -> Void)
        async throws(StoreError) -> Int
}

extension AuditStore {
    @discardableResult
    public func append(_ records: [AuditRecord]) async throws(StoreError) -> AuditChain.Head {
        try await append(records, firstUses: [], firstUseRecord: { _ in AuditRecord(time: 0, actor: "", action: "") })
    }
}

/// A request made with a key from an address, for "first use from a new IP" alerts.
public struct KeyAddressUse: Sendable, Hashable {
    public var apiKey: String
    public var ip: String
    public var at: Int64

    public init(apiKey: String, ip: String, at: Int64) {
        self.apiKey = apiKey
        self.ip = ip
        self.at = at
    }
}

/// Filters for `keysmith audit search`; nil matches anything.
public struct AuditQuery: Sendable, Hashable {
    public var actor: String?
    public var account: String?
    public var action: String?
    public var clientIP: String?
    public var result: String?
    public var since: Int64?
    public var until: Int64?
    /// A value (an HMAC) that must appear among an event's details.
    public var detailValue: String?
    /// Only events before this sequence number (paging backwards through the log).
    public var beforeSequence: Int64?
    public var limit: Int

    public init(
        actor: String? = nil, account: String? = nil, action: String? = nil, clientIP: String? = nil, result: String? = nil,
        since: Int64? = nil, until: Int64? = nil, detailValue: String? = nil, beforeSequence: Int64? = nil, limit: Int = 100
    ) {
        self.beforeSequence = beforeSequence
        self.actor = actor
        self.account = account
        self.action = action
        self.clientIP = clientIP
        self.result = result
        self.since = since
        self.until = until
        self.detailValue = detailValue
        self.limit = limit
    }
}
