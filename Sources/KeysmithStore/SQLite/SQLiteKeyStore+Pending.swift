import GRDB
import KeysmithCore

extension SQLiteKeyStore {
    static func setPending(_ change: PendingKeyChange, in db: Database) throws {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO pending_key_change (api_key, permissions, ip_allowlist, requested_at, effective_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [change.apiKey, change.permissions.okxString, change.allowlist.okxString, change.requestedAt, change.effectiveAt])
    }

    public func pending(apiKey: String) async throws(StoreError) -> PendingKeyChange? {
        try await fetchPending(sql: "SELECT * FROM pending_key_change WHERE api_key = ?", arguments: [apiKey]).first
    }

    public func allPending() async throws(StoreError) -> [PendingKeyChange] {
        try await fetchPending(sql: "SELECT * FROM pending_key_change ORDER BY effective_at", arguments: [])
    }

    public func cancelPending(apiKey: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM pending_key_change WHERE api_key = ?", arguments: [apiKey])
            let cancelled = db.changesCount == 1
            if cancelled { try AuditLog.append([audit], in: SQLTransaction(db)) }
            return cancelled
        }
    }

    public func applyPending(dueAt now: Int64, audit: @escaping @Sendable (String) -> AuditRecord) async throws(StoreError) -> [String] {
        try await database.write { db in
            let due = try Row.fetchAll(
                db, sql: "SELECT api_key, permissions, ip_allowlist FROM pending_key_change WHERE effective_at <= ?", arguments: [now])
            var applied: [String] = []
            for row in due {
                let apiKey: String = row["api_key"]
                try db.execute(
                    sql: """
                        UPDATE api_key SET permissions = ?, ip_allowlist = ?, change_seq = ?
                        WHERE api_key = ? AND revoked_at IS NULL
                        """,
                    arguments: [row["permissions"] as String, row["ip_allowlist"] as String, try Self.nextSequence(db), apiKey])
                if db.changesCount == 1 {
                    applied.append(apiKey)
                    try AuditLog.append([audit(apiKey)], in: SQLTransaction(db))
                }
                try db.execute(sql: "DELETE FROM pending_key_change WHERE api_key = ?", arguments: [apiKey])
            }
            return applied
        }
    }

    private func fetchPending(sql: String, arguments: StatementArguments) async throws(StoreError) -> [PendingKeyChange] {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                (row["api_key"] as String, row["permissions"] as String, row["ip_allowlist"] as String,
                 row["requested_at"] as Int64, row["effective_at"] as Int64)
            }
        }
        return try rows.map { row throws(StoreError) in
            try PendingKeyChange.decode(apiKey: row.0, permissions: row.1, allowlist: row.2, requestedAt: row.3, effectiveAt: row.4)
        }
    }
}
