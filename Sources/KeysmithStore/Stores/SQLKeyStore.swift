import Foundation
import KeysmithCore

/// ``KeyStore`` (with ``AppStore`` and ``KeyEventStore``) on either database.
///
/// Change sequence: every key write sets `change_seq` to one more than the table's maximum inside the write
/// transaction. Writers are serialised (SQLite's one writer; PostgreSQL's write lock across nodes), so sequences are
/// unique and commit-ordered: a reader that saw every change up to N never later sees a smaller one commit. Revoked
/// keys keep their rows, so no change is lost to a delete. On PostgreSQL each such transaction also sends
/// `NOTIFY keysmith_keys` with the new sequence, delivered to every listening node when the transaction commits
/// (``changeFeed``).
public struct SQLKeyStore: KeyStore {
    /// The channel key changes are announced on.
    public static let channel = "keysmith_keys"

    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    /// Pushes key changes from other nodes (PostgreSQL `LISTEN`); nil on SQLite, whose readers poll.
    public var changeFeed: (any KeyChangeFeed)? {
        guard case .postgres(let postgres) = database.backend else { return nil }
        return PostgresKeyChangeFeed(database: postgres, channel: Self.channel)
    }

    // MARK: - Accounts

    public func setFrozen(accountUID: String, frozen: Bool, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            guard try tx.execute("UPDATE account SET frozen = \(frozen) WHERE uid = \(accountUID)") == 1 else { return false }
            try Self.refreshKeys(of: accountUID, in: tx)
            try AuditLog.append([audit], in: tx)
            return true
        }
    }

    public func setModes(accountUID: String, level: AccountLevel, positionMode: PositionMode, audit: AuditRecord)
        async throws(StoreError) -> Bool
    {
        try await database.write { tx throws(StoreError) in
            let openOrders = try tx.exists(
                """
                SELECT 1 FROM spot_order JOIN instrument ON instrument.inst_id = spot_order.inst_id
                WHERE spot_order.account_uid = \(accountUID) AND spot_order.state IN ('live', 'partially_filled')
                AND instrument.inst_type = 'SWAP' LIMIT 1
                """)
            let openPositions = try tx.exists("SELECT 1 FROM position WHERE account_uid = \(accountUID) AND pos != 0 LIMIT 1")
            if openOrders || openPositions { throw StoreError.limitReached(.openSwapOrders, "the account has open SWAP orders or positions") }
            let changed = try tx.execute(
                "UPDATE account SET acct_lv = \(level.rawValue), pos_mode = \(positionMode.rawValue) WHERE uid = \(accountUID)")
            guard changed == 1 else { return false }
            try Self.refreshKeys(of: accountUID, in: tx)
            try AuditLog.append([audit], in: tx)
            return true
        }
    }

    /// Gives the account's active keys new change sequences, so every key cache reloads them with the account.
    private static func refreshKeys(of accountUID: String, in tx: SQLTransaction) throws(StoreError) {
        let keys = try tx.fetchAll(
            "SELECT api_key FROM api_key WHERE account_uid = \(accountUID) AND revoked_at IS NULL ORDER BY id"
        ) { row throws(StoreError) in try row(at: 0, as: String.self) }
        for apiKey in keys {
            try tx.execute("UPDATE api_key SET change_seq = \(try nextSequence(tx)) WHERE api_key = \(apiKey)")
        }
    }

    public func insert(account: Account, audit: AuditRecord) async throws(StoreError) {
        let row = AccountRow(account)
        try await database.write { tx throws(StoreError) in
            if let parent = account.parentUID {
                if try tx.exists("SELECT 1 FROM account WHERE parent_uid = \(parent) AND name = \(account.name)") {
                    throw StoreError.duplicate(.subAccountName, "a sub-account named \(account.name) already exists")
                }
            } else if try tx.exists("SELECT 1 FROM account WHERE parent_uid IS NULL") {
                throw StoreError.duplicate(.masterAccount, "the master account already exists")
            }
            try tx.execute(row.insert)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func masterAccount() async throws(StoreError) -> Account? {
        try await database.fetchOne("SELECT * FROM account WHERE parent_uid IS NULL", AccountRow.account)
    }

    public func account(uid: String) async throws(StoreError) -> Account? {
        try await database.fetchOne("SELECT * FROM account WHERE uid = \(uid)", AccountRow.account)
    }

    public func subAccount(named name: String, parentUID: String) async throws(StoreError) -> Account? {
        try await database.fetchOne("SELECT * FROM account WHERE parent_uid = \(parentUID) AND name = \(name)", AccountRow.account)
    }

    public func subAccounts(parentUID: String) async throws(StoreError) -> [Account] {
        try await database.fetchAll("SELECT * FROM account WHERE parent_uid = \(parentUID) ORDER BY created_at, name", AccountRow.account)
    }

    // MARK: - Keys

    public func insert(key: StoredKey, maximumPerAccount: Int, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            let active =
                try tx.value(
                    "SELECT COUNT(*) FROM api_key WHERE account_uid = \(key.key.accountUID) AND revoked_at IS NULL", as: Int.self) ?? 0
            guard active < maximumPerAccount else {
                throw StoreError.limitReached(.keysPerAccount, "the account already has \(active) API keys")
            }
            try Self.checkLabelIsFree(key.key, excluding: nil, in: tx)
            var row = KeyRow(key)
            row.changeSeq = try Self.nextSequence(tx)
            try tx.execute(row.insert)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func update(key: APIKey, pending: PendingKeyChange?, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try Self.checkLabelIsFree(key, excluding: key.apiKey, in: tx)
            let sequence = try Self.nextSequence(tx)
            let updated = try tx.execute(
                """
                UPDATE api_key SET label = \(key.label), permissions = \(key.permissions.okxString),
                ip_allowlist = \(key.allowlist.okxString), expires_at = \(key.expiresAt), rate_limit = \(key.rateLimit?.text),
                instruments = \(key.trading.instruments.joined(separator: ",")), max_order_usdt = \(key.trading.maxOrderUSDT),
                max_daily_usdt = \(key.trading.maxDailyUSDT), products = \(key.trading.productsText), change_seq = \(sequence)
                WHERE api_key = \(key.apiKey) AND revoked_at IS NULL
                """)
            guard updated == 1 else { throw StoreError.notFound(.activeKey, "no active API key \(key.apiKey)") }
            if let pending {
                try Self.setPending(pending, in: tx)
            } else {
                try tx.execute("DELETE FROM pending_key_change WHERE api_key = \(key.apiKey)")
            }
            try AuditLog.append([audit], in: tx)
        }
    }

    public func rotate(apiKey: String, oldKeyExpiresAt: Int64, successor: StoredKey, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            let sequence = try Self.nextSequence(tx)
            let updated = try tx.execute(
                """
                UPDATE api_key SET expires_at = \(oldKeyExpiresAt), change_seq = \(sequence)
                WHERE api_key = \(apiKey) AND revoked_at IS NULL
                """)
            guard updated == 1 else { throw StoreError.notFound(.activeKey, "no active API key \(apiKey)") }
            try Self.checkLabelIsFree(successor.key, excluding: nil, in: tx)
            var row = KeyRow(successor)
            row.changeSeq = try Self.nextSequence(tx)
            try tx.execute(row.insert)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func revoke(apiKey: String, at time: Int64, reason: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            let sequence = try Self.nextSequence(tx)
            let revoked =
                try tx.execute(
                    """
                    UPDATE api_key SET revoked_at = \(time), revoke_reason = \(reason), change_seq = \(sequence)
                    WHERE api_key = \(apiKey) AND revoked_at IS NULL
                    """) == 1
            try tx.execute("DELETE FROM pending_key_change WHERE api_key = \(apiKey)")
            if revoked { try AuditLog.append([audit], in: tx) }
            return revoked
        }
    }

    public func recordUsage(_ usage: [KeyUsage]) async throws(StoreError) {
        guard !usage.isEmpty else { return }
        // Not a key change: no new change sequence, no place in the write order.
        try await database.update { tx throws(StoreError) in
            for start in stride(from: 0, to: usage.count, by: tx.batchRows) {
                let rows = usage[start..<min(start + tx.batchRows, usage.count)].map { use -> [SQLValue] in
                    [.text(use.apiKey), .integer(use.at), use.ip.sqlValue]
                }
                try tx.execute(
                    """
                    UPDATE api_key SET last_used_at = u.column2, last_used_ip = u.column3
                    FROM (\(values: rows)) AS u
                    WHERE api_key.api_key = u.column1 AND (api_key.last_used_at IS NULL OR api_key.last_used_at < u.column2)
                    """)
            }
        }
    }

    public func key(apiKey: String) async throws(StoreError) -> StoredKey? {
        try await database.fetchOne("SELECT * FROM api_key WHERE api_key = \(apiKey)", KeyRow.storedKey)
    }

    public func key(secretFingerprint: [UInt8]) async throws(StoreError) -> StoredKey? {
        try await database.fetchOne("SELECT * FROM api_key WHERE secret_fingerprint = \(secretFingerprint)", KeyRow.storedKey)
    }

    public func keys(accountUID: String) async throws(StoreError) -> [StoredKey] {
        try await database.fetchAll("SELECT * FROM api_key WHERE account_uid = \(accountUID) ORDER BY id", KeyRow.storedKey)
    }

    public func keyChanges(after sequence: Int64) async throws(StoreError) -> KeyChanges {
        let keys = try await database.fetchAll(
            "SELECT * FROM api_key WHERE change_seq > \(sequence) ORDER BY change_seq", KeyRow.storedKey)
        return KeyChanges(keys: keys, latestSequence: keys.last?.changeSequence ?? sequence)
    }

    // MARK: - Master key binding

    /// Records a sealed sentinel on first use, and afterwards checks that the given sealer opens it: a server
    /// started with the wrong master key stops with a clear error instead of failing every signature.
    public func bindMasterKey(_ sealer: SecretSealer) async throws(StoreError) {
        let sentinelName = "master-key-check"
        let select: SQL = "SELECT value FROM meta WHERE name = \(sentinelName)"
        var stored = try await database.value(select, as: Data.self)
        if stored == nil {
            let sealed = Data(try sealer.seal("keysmith", for: sentinelName))
            // Two processes starting at once: the first sentinel wins and both check against it.
            stored = try await database.write { tx throws(StoreError) in
                try tx.execute("INSERT INTO meta (name, value) VALUES (\(sentinelName), \(sealed)) ON CONFLICT (name) DO NOTHING")
                return try tx.value(select, as: Data.self)
            }
        }
        guard let stored else { throw StoreError.database("the master-key check is missing") }
        do {
            _ = try sealer.open(Array(stored), for: sentinelName)
        } catch {
            throw StoreError(.masterKeyMismatch, "the master key does not match this database")
        }
    }

    // MARK: - In a transaction

    /// The next change sequence, announced to listening nodes.
    static func nextSequence(_ tx: SQLTransaction) throws(StoreError) -> Int64 {
        let next = try tx.value("SELECT CAST(COALESCE(MAX(change_seq), 0) + 1 AS BIGINT) FROM api_key", as: Int64.self) ?? 1
        try tx.notify(channel, String(next))
        return next
    }

    private static func checkLabelIsFree(_ key: APIKey, excluding apiKey: String?, in tx: SQLTransaction) throws(StoreError) {
        let clash = try tx.exists(
            """
            SELECT 1 FROM api_key WHERE account_uid = \(key.accountUID) AND label = \(key.label) AND revoked_at IS NULL
            AND (CAST(\(apiKey) AS TEXT) IS NULL OR api_key <> \(apiKey))
            """)
        if clash { throw StoreError.duplicate(.keyLabel, "an active API key with label '\(key.label)' already exists") }
    }
}
