import GRDB
import KeysmithCore

extension SQLiteKeyStore: KeyEventStore {
    public func record(_ event: KeyEvent, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO key_event (api_key, kind, expires_at, reason, at) VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [event.apiKey, event.kind.rawValue, event.expiresAt, event.reason.rawValue, event.at])
            let recorded = db.changesCount == 1
            if recorded { try AuditLog.append([audit], in: SQLTransaction(db)) }
            return recorded
        }
    }

    public func keyEvents(apiKey: String?) async throws(StoreError) -> [KeyEvent] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM key_event WHERE ? IS NULL OR api_key = ? ORDER BY id", arguments: [apiKey, apiKey])
                .map { row in (row["api_key"] as String, row["kind"] as String, row["expires_at"] as Int64, row["reason"] as String, row["at"] as Int64) }
        }
        return try rows.map { row throws(StoreError) in
            guard let kind = KeyEvent.Kind(rawValue: row.1), let reason = ExpiryReason(rawValue: row.3) else {
                throw StoreError.database("unreadable key event for \(row.0)")
            }
            return KeyEvent(apiKey: row.0, kind: kind, expiresAt: row.2, reason: reason, at: row.4)
        }
    }
}
