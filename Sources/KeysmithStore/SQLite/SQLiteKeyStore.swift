import Foundation
import GRDB
import KeysmithCore

/// ``KeyStore`` on the embedded SQLite database.
///
/// Change sequence: every key write sets `change_seq` to one more than the table's maximum inside the write
/// transaction (SQLite serialises writers, so sequences are unique and increasing); revoked keys keep their
/// rows, so no change is ever lost to a delete.
public struct SQLiteKeyStore: KeyStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    // MARK: - Accounts

    public func setFrozen(accountUID: String, frozen: Bool, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE account SET frozen = ? WHERE uid = ?", arguments: [frozen, accountUID])
            guard db.changesCount == 1 else { return false }
            let keys = try String.fetchAll(
                db, sql: "SELECT api_key FROM api_key WHERE account_uid = ? AND revoked_at IS NULL ORDER BY id", arguments: [accountUID])
            for apiKey in keys {
                try db.execute(sql: "UPDATE api_key SET change_seq = ? WHERE api_key = ?", arguments: [try Self.nextSequence(db), apiKey])
            }
            try AuditLog.append([audit], in: SQLTransaction(db))
            return true
        }
    }

    public func insert(account: Account, audit: AuditRecord) async throws(StoreError) {
        let row = AccountRow(account)
        try await database.write { db in
            if account.parentUID != nil,
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM account WHERE parent_uid = ? AND name = ?",
                    arguments: [account.parentUID, account.name]) == true
            {
                throw StoreError.duplicate("a sub-account named \(account.name) already exists")
            }
            if account.parentUID == nil,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE parent_uid IS NULL") == true
            {
                throw StoreError.duplicate("the master account already exists")
            }
            try row.insert(db)
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }

    public func masterAccount() async throws(StoreError) -> Account? {
        try await fetchAccount(sql: "SELECT * FROM account WHERE parent_uid IS NULL", arguments: [])
    }

    public func account(uid: String) async throws(StoreError) -> Account? {
        try await fetchAccount(sql: "SELECT * FROM account WHERE uid = ?", arguments: [uid])
    }

    public func subAccount(named name: String, parentUID: String) async throws(StoreError) -> Account? {
        try await fetchAccount(sql: "SELECT * FROM account WHERE parent_uid = ? AND name = ?", arguments: [parentUID, name])
    }

    public func subAccounts(parentUID: String) async throws(StoreError) -> [Account] {
        let rows = try await database.read { db in
            try AccountRow.fetchAll(
                db, sql: "SELECT * FROM account WHERE parent_uid = ? ORDER BY created_at, name", arguments: [parentUID])
        }
        return try rows.map { row throws(StoreError) in try row.account() }
    }

    private func fetchAccount(sql: String, arguments: StatementArguments) async throws(StoreError) -> Account? {
        let row = try await database.read { db in try AccountRow.fetchOne(db, sql: sql, arguments: arguments) }
        return try row?.account()
    }

    // MARK: - Keys

    public func insert(key: StoredKey, maximumPerAccount: Int, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            let active = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM api_key WHERE account_uid = ? AND revoked_at IS NULL",
                arguments: [key.key.accountUID]) ?? 0
            guard active < maximumPerAccount else {
                throw StoreError.limitReached("the account already has \(active) API keys")
            }
            try Self.checkLabelIsFree(db, key.key, excluding: nil)
            var row = KeyRow(key)
            row.changeSeq = try Self.nextSequence(db)
            try row.insert(db)
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }

    public func update(key: APIKey, pending: PendingKeyChange?, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            try Self.checkLabelIsFree(db, key, excluding: key.apiKey)
            let sequence = try Self.nextSequence(db)
            try db.execute(
                sql: """
                    UPDATE api_key SET label = ?, permissions = ?, ip_allowlist = ?, expires_at = ?, rate_limit = ?,
                    instruments = ?, max_order_usdt = ?, max_daily_usdt = ?, change_seq = ?
                    WHERE api_key = ? AND revoked_at IS NULL
                    """,
                arguments: [
                    key.label, key.permissions.okxString, key.allowlist.okxString, key.expiresAt, key.rateLimit?.text,
                    key.trading.instruments.joined(separator: ","), key.trading.maxOrderUSDT, key.trading.maxDailyUSDT,
                    sequence, key.apiKey,
                ])
            guard db.changesCount == 1 else { throw StoreError.notFound("no active API key \(key.apiKey)") }
            if let pending {
                try Self.setPending(pending, in: db)
            } else {
                try db.execute(sql: "DELETE FROM pending_key_change WHERE api_key = ?", arguments: [key.apiKey])
            }
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }

    public func rotate(apiKey: String, oldKeyExpiresAt: Int64, successor: StoredKey, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE api_key SET expires_at = ?, change_seq = ? WHERE api_key = ? AND revoked_at IS NULL",
                arguments: [oldKeyExpiresAt, try Self.nextSequence(db), apiKey])
            guard db.changesCount == 1 else { throw StoreError.notFound("no active API key \(apiKey)") }
            try Self.checkLabelIsFree(db, successor.key, excluding: nil)
            var row = KeyRow(successor)
            row.changeSeq = try Self.nextSequence(db)
            try row.insert(db)
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }

    public func revoke(apiKey: String, at time: Int64, reason: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            let sequence = try Self.nextSequence(db)
            try db.execute(
                sql: """
                    UPDATE api_key SET revoked_at = ?, revoke_reason = ?, change_seq = ?
                    WHERE api_key = ? AND revoked_at IS NULL
                    """,
                arguments: [time, reason, sequence, apiKey])
            let revoked = db.changesCount == 1
            try db.execute(sql: "DELETE FROM pending_key_change WHERE api_key = ?", arguments: [apiKey])
            if revoked { try AuditLog.append([audit], in: SQLTransaction(db)) }
            return revoked
        }
    }

    public func recordUsage(_ usage: [KeyUsage]) async throws(StoreError) {
        guard !usage.isEmpty else { return }
        try await database.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE api_key SET last_used_at = ?, last_used_ip = ?
                    WHERE api_key = ? AND (last_used_at IS NULL OR last_used_at < ?)
                    """)
            for use in usage {
                try statement.execute(arguments: [use.at, use.ip, use.apiKey, use.at])
            }
        }
    }

    public func key(apiKey: String) async throws(StoreError) -> StoredKey? {
        let row = try await database.read { db in
            try KeyRow.fetchOne(db, sql: "SELECT * FROM api_key WHERE api_key = ?", arguments: [apiKey])
        }
        return try row?.storedKey()
    }

    public func key(secretFingerprint: [UInt8]) async throws(StoreError) -> StoredKey? {
        let fingerprint = Data(secretFingerprint)
        let row = try await database.read { db in
            try KeyRow.fetchOne(db, sql: "SELECT * FROM api_key WHERE secret_fingerprint = ?", arguments: [fingerprint])
        }
        return try row?.storedKey()
    }

    public func keys(accountUID: String) async throws(StoreError) -> [StoredKey] {
        let rows = try await database.read { db in
            try KeyRow.fetchAll(
                db, sql: "SELECT * FROM api_key WHERE account_uid = ? ORDER BY id", arguments: [accountUID])
        }
        return try rows.map { row throws(StoreError) in try row.storedKey() }
    }

    public func keyChanges(after sequence: Int64) async throws(StoreError) -> KeyChanges {
        let (rows, latest) = try await database.read { db in
            let rows = try KeyRow.fetchAll(
                db, sql: "SELECT * FROM api_key WHERE change_seq > ? ORDER BY change_seq", arguments: [sequence])
            return (rows, rows.last?.changeSeq ?? sequence)
        }
        return KeyChanges(keys: try rows.map { row throws(StoreError) in try row.storedKey() }, latestSequence: latest)
    }

    // MARK: - Master key binding

    /// Records a sealed sentinel on first use, and afterwards checks that the given sealer opens it: a server
    /// started with the wrong master key stops with a clear error instead of failing every signature.
    public func bindMasterKey(_ sealer: SecretSealer) async throws(StoreError) {
        let sentinelName = "master-key-check"
        let existing = try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE name = ?", arguments: [sentinelName])
        }
        if let existing {
            do {
                _ = try sealer.open(Array(existing), for: sentinelName)
            } catch {
                throw StoreError(.masterKeyMismatch, "the master key does not match this database")
            }
            return
        }
        let sealed = Data(try sealer.seal("keysmith", for: sentinelName))
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", arguments: [sentinelName, sealed])
        }
    }

    // MARK: - Helpers

    static func nextSequence(_ db: Database) throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(change_seq), 0) + 1 FROM api_key")) ?? 1
    }

    private static func checkLabelIsFree(_ db: Database, _ key: APIKey, excluding apiKey: String?) throws {
        let clash = try Bool.fetchOne(
            db,
            sql: """
                SELECT 1 FROM api_key WHERE account_uid = ? AND label = ? AND revoked_at IS NULL
                AND api_key IS NOT ?
                """,
            arguments: [key.accountUID, key.label, apiKey]) ?? false
        if clash { throw StoreError.duplicate("an active API key with label '\(key.label)' already exists") }
    }
}
