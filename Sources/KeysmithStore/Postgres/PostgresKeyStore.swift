import Foundation
import KeysmithCore
import PostgresNIO

/// ``KeyStore`` (with ``AppStore`` and ``KeyEventStore``) on PostgreSQL.
///
/// Change sequence: as on SQLite, every key write sets `change_seq` to one more than the table's maximum inside the
/// write transaction; ``PostgresDatabase``'s write lock makes sequences unique and commit-ordered across nodes.
/// Each such transaction also sends `NOTIFY keysmith_keys` with the new sequence, which PostgreSQL delivers to every
/// listening node when (and only if) the transaction commits.
public struct PostgresKeyStore: KeyStore {
    /// The channel key changes are announced on.
    public static let channel = "keysmith_keys"

    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    // MARK: - Accounts

    public func setFrozen(accountUID: String, frozen: Bool, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            let updated = try await connection.query(
                "UPDATE account SET frozen = \(frozen) WHERE uid = \(accountUID) RETURNING uid", logger: logger
            ).collect(String.self)
            guard !updated.isEmpty else { return false }
            let keys = try await connection.query(
                "SELECT api_key FROM api_key WHERE account_uid = \(accountUID) AND revoked_at IS NULL ORDER BY id", logger: logger
            ).collect(String.self)
            for apiKey in keys {
                let sequence = try await Self.nextSequence(connection, logger)
                try await connection.query("UPDATE api_key SET change_seq = \(sequence) WHERE api_key = \(apiKey)", logger: logger)
            }
            try await PostgresAuditLog.append([audit], on: connection, logger)
            return true
        }
    }

    public func insert(account: Account, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            if let parent = account.parentUID {
                let clash = try await connection.query(
                    "SELECT 1 FROM account WHERE parent_uid = \(parent) AND name = \(account.name)", logger: logger
                ).collect(Int32.self)
                if !clash.isEmpty { throw StoreError.duplicate("a sub-account named \(account.name) already exists") }
            } else {
                let master = try await connection.query("SELECT 1 FROM account WHERE parent_uid IS NULL", logger: logger).collect(Int32.self)
                if !master.isEmpty { throw StoreError.duplicate("the master account already exists") }
            }
            try await connection.query(
                """
                INSERT INTO account (uid, parent_uid, name, type, acct_lv, pos_mode, deposits_allowed, frozen, label,
                can_transfer_out, created_at) VALUES (\(account.uid), \(account.parentUID), \(account.name),
                \(account.type.rawValue), \(account.level.rawValue), \(account.positionMode.rawValue), \(account.depositsAllowed),
                \(account.frozen), \(account.label), \(account.canTransferOut), \(account.createdAt))
                """, logger: logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func masterAccount() async throws(StoreError) -> Account? {
        try await accounts("SELECT * FROM account WHERE parent_uid IS NULL").first
    }

    public func account(uid: String) async throws(StoreError) -> Account? {
        try await accounts("SELECT * FROM account WHERE uid = \(uid)").first
    }

    public func subAccount(named name: String, parentUID: String) async throws(StoreError) -> Account? {
        try await accounts("SELECT * FROM account WHERE parent_uid = \(parentUID) AND name = \(name)").first
    }

    public func subAccounts(parentUID: String) async throws(StoreError) -> [Account] {
        try await accounts("SELECT * FROM account WHERE parent_uid = \(parentUID) ORDER BY created_at, name")
    }

    private func accounts(_ query: PostgresQuery) async throws(StoreError) -> [Account] {
        let rows = try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map(AccountRow.init(postgres:))
        }
        return try rows.map { row throws(StoreError) in try row.account() }
    }

    // MARK: - Keys

    public func insert(key: StoredKey, maximumPerAccount: Int, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            let active = try await connection.query(
                "SELECT COUNT(*) FROM api_key WHERE account_uid = \(key.key.accountUID) AND revoked_at IS NULL", logger: logger
            ).collect(Int64.self).first ?? 0
            guard active < maximumPerAccount else {
                throw StoreError.limitReached("the account already has \(active) API keys")
            }
            try await Self.checkLabelIsFree(connection, logger, key.key, excluding: nil)
            var row = KeyRow(key)
            row.changeSeq = try await Self.nextSequence(connection, logger)
            try await Self.insert(row, on: connection, logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func update(key: APIKey, pending: PendingKeyChange?, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            try await Self.checkLabelIsFree(connection, logger, key, excluding: key.apiKey)
            let sequence = try await Self.nextSequence(connection, logger)
            let updated = try await connection.query(
                """
                UPDATE api_key SET label = \(key.label), permissions = \(key.permissions.okxString),
                ip_allowlist = \(key.allowlist.okxString), expires_at = \(key.expiresAt), rate_limit = \(key.rateLimit?.text),
                instruments = \(key.trading.instruments.joined(separator: ",")), max_order_usdt = \(key.trading.maxOrderUSDT),
                max_daily_usdt = \(key.trading.maxDailyUSDT), change_seq = \(sequence)
                WHERE api_key = \(key.apiKey) AND revoked_at IS NULL RETURNING api_key
                """, logger: logger
            ).collect(String.self)
            guard updated.count == 1 else { throw StoreError.notFound("no active API key \(key.apiKey)") }
            if let pending {
                try await Self.setPending(pending, on: connection, logger)
            } else {
                try await connection.query("DELETE FROM pending_key_change WHERE api_key = \(key.apiKey)", logger: logger)
            }
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func rotate(apiKey: String, oldKeyExpiresAt: Int64, successor: StoredKey, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            let sequence = try await Self.nextSequence(connection, logger)
            let updated = try await connection.query(
                """
                UPDATE api_key SET expires_at = \(oldKeyExpiresAt), change_seq = \(sequence)
                WHERE api_key = \(apiKey) AND revoked_at IS NULL RETURNING api_key
                """, logger: logger
            ).collect(String.self)
            guard updated.count == 1 else { throw StoreError.notFound("no active API key \(apiKey)") }
            try await Self.checkLabelIsFree(connection, logger, successor.key, excluding: nil)
            var row = KeyRow(successor)
            row.changeSeq = try await Self.nextSequence(connection, logger)
            try await Self.insert(row, on: connection, logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func revoke(apiKey: String, at time: Int64, reason: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            let sequence = try await Self.nextSequence(connection, logger)
            let revoked = try await connection.query(
                """
                UPDATE api_key SET revoked_at = \(time), revoke_reason = \(reason), change_seq = \(sequence)
                WHERE api_key = \(apiKey) AND revoked_at IS NULL RETURNING api_key
                """, logger: logger
            ).collect(String.self)
            try await connection.query("DELETE FROM pending_key_change WHERE api_key = \(apiKey)", logger: logger)
            if !revoked.isEmpty { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return !revoked.isEmpty
        }
    }

    public func recordUsage(_ usage: [KeyUsage]) async throws(StoreError) {
        guard !usage.isEmpty else { return }
        // Not a key change: no write lock needed, and no new change sequence. One statement for the whole batch.
        let keys = usage.map(\.apiKey), times = usage.map(\.at), ips = usage.map { $0.ip ?? "" }
        try await database.read { connection, logger in
            try await connection.query(
                """
                UPDATE api_key AS k SET last_used_at = u.at, last_used_ip = NULLIF(u.ip, '')
                FROM unnest(\(keys)::TEXT[], \(times)::BIGINT[], \(ips)::TEXT[]) AS u(api_key, at, ip)
                WHERE k.api_key = u.api_key AND (k.last_used_at IS NULL OR k.last_used_at < u.at)
                """, logger: logger)
        }
    }

    public func key(apiKey: String) async throws(StoreError) -> StoredKey? {
        try await keys("SELECT * FROM api_key WHERE api_key = \(apiKey)").first
    }

    public func key(secretFingerprint: [UInt8]) async throws(StoreError) -> StoredKey? {
        try await keys("SELECT * FROM api_key WHERE secret_fingerprint = \(ByteBuffer(bytes: secretFingerprint))").first
    }

    public func keys(accountUID: String) async throws(StoreError) -> [StoredKey] {
        try await keys("SELECT * FROM api_key WHERE account_uid = \(accountUID) ORDER BY id")
    }

    public func keyChanges(after sequence: Int64) async throws(StoreError) -> KeyChanges {
        let keys = try await keys("SELECT * FROM api_key WHERE change_seq > \(sequence) ORDER BY change_seq")
        return KeyChanges(keys: keys, latestSequence: keys.last?.changeSequence ?? sequence)
    }

    /// The newest change sequence (0 before the first key).
    public func latestChangeSequence() async throws(StoreError) -> Int64 {
        try await database.read { connection, logger in
            try await connection.query("SELECT COALESCE(MAX(change_seq), 0)::BIGINT FROM api_key", logger: logger).collect(Int64.self).first ?? 0
        }
    }

    private func keys(_ query: PostgresQuery) async throws(StoreError) -> [StoredKey] {
        let rows = try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map(KeyRow.init(postgres:))
        }
        return try rows.map { row throws(StoreError) in try row.storedKey() }
    }

    // MARK: - Master key binding

    /// Records a sealed sentinel on first use, and afterwards checks that the given sealer opens it (see
    /// ``SQLiteKeyStore/bindMasterKey(_:)``).
    public func bindMasterKey(_ sealer: SecretSealer) async throws(StoreError) {
        let sentinelName = "master-key-check"
        let sealed = Data(try sealer.seal("keysmith", for: sentinelName))
        let stored = try await database.write { connection, logger in
            try await connection.query(
                "INSERT INTO meta (name, value) VALUES (\(sentinelName), \(sealed)) ON CONFLICT (name) DO NOTHING", logger: logger)
            return try await connection.query("SELECT value FROM meta WHERE name = \(sentinelName)", logger: logger)
                .collect(Data.self).first
        }
        guard let stored else { throw StoreError.database("the master-key check is missing") }
        do {
            _ = try sealer.open(Array(stored), for: sentinelName)
        } catch {
            throw StoreError(.masterKeyMismatch, "the master key does not match this database")
        }
    }

    // MARK: - Helpers

    static func nextSequence(_ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        let next = try await connection.query(
            "SELECT (COALESCE(MAX(change_seq), 0) + 1)::BIGINT FROM api_key", logger: logger
        ).collect(Int64.self).first ?? 1
        try await connection.query("SELECT pg_notify(\(channel), \(String(next)))", logger: logger)
        return next
    }

    static func insert(_ row: KeyRow, on connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO api_key (api_key, account_uid, label, purpose, app, permissions, ip_allowlist, algorithm, environment,
            sealed_secret, passphrase_verifier, created_at, expires_at, revoked_at, revoke_reason, rate_limit, last_used_at,
            last_used_ip, rotated_from, public_key, instruments, max_order_usdt, max_daily_usdt, secret_fingerprint,
            secret_format, change_seq) VALUES (\(row.api_key), \(row.account_uid), \(row.label), \(row.purpose), \(row.app),
            \(row.permissions), \(row.ip_allowlist), \(row.algorithm), \(row.environment), \(row.sealed_secret),
            \(row.passphrase_verifier), \(row.created_at), \(row.expires_at), \(row.revoked_at), \(row.revoke_reason),
            \(row.rate_limit), \(row.last_used_at), \(row.last_used_ip), \(row.rotated_from), \(row.public_key),
            \(row.instruments), \(row.max_order_usdt), \(row.max_daily_usdt), \(row.secret_fingerprint), \(row.secret_format),
            \(row.changeSeq))
            """, logger: logger)
    }

    private static func checkLabelIsFree(
        _ connection: PostgresConnection, _ logger: Logger, _ key: APIKey, excluding apiKey: String?
    ) async throws {
        let clash = try await connection.query(
            """
            SELECT 1 FROM api_key WHERE account_uid = \(key.accountUID) AND label = \(key.label) AND revoked_at IS NULL
            AND api_key IS DISTINCT FROM \(apiKey)::TEXT
            """, logger: logger
        ).collect(Int32.self)
        if !clash.isEmpty { throw StoreError.duplicate("an active API key with label '\(key.label)' already exists") }
    }
}

extension AccountRow {
    init(postgres row: PostgresRandomAccessRow) throws {
        uid = try row("uid")
        parent_uid = try row("parent_uid")
        name = try row("name")
        type = try row("type")
        acct_lv = try row("acct_lv")
        pos_mode = try row("pos_mode")
        deposits_allowed = try row("deposits_allowed")
        frozen = try row("frozen")
        label = try row("label")
        can_transfer_out = try row("can_transfer_out")
        created_at = try row("created_at")
    }
}

extension KeyRow {
    init(postgres row: PostgresRandomAccessRow) throws {
        api_key = try row("api_key")
        account_uid = try row("account_uid")
        label = try row("label")
        purpose = try row("purpose")
        app = try row("app")
        permissions = try row("permissions")
        ip_allowlist = try row("ip_allowlist")
        algorithm = try row("algorithm")
        environment = try row("environment")
        sealed_secret = try row("sealed_secret")
        passphrase_verifier = try row("passphrase_verifier")
        created_at = try row("created_at")
        expires_at = try row("expires_at")
        revoked_at = try row("revoked_at")
        revoke_reason = try row("revoke_reason")
        rate_limit = try row("rate_limit")
        last_used_at = try row("last_used_at")
        last_used_ip = try row("last_used_ip")
        rotated_from = try row("rotated_from")
        public_key = try row("public_key")
        instruments = try row("instruments")
        max_order_usdt = try row("max_order_usdt")
        max_daily_usdt = try row("max_daily_usdt")
        secret_fingerprint = try row("secret_fingerprint")
        secret_format = try row("secret_format")
        changeSeq = try row("change_seq")
    }
}

extension PostgresKeyStore: KeyChangeFeed {
    public func followChanges(_ onChange: @escaping @Sendable (Int64?) async -> Void) async throws(StoreError) {
        do {
            try await database.client.withConnection { connection in
                try await connection.listen(on: Self.channel) { notifications in
                    await onChange(nil)
                    for try await notification in notifications {
                        await onChange(Int64(notification.payload))
                    }
                }
            }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }
}
