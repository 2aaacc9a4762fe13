import Foundation
import GRDB
import KeysmithCore

/// ``AuditStore`` on the embedded SQLite database.
public struct SQLiteAuditStore: AuditStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    @discardableResult
    public func append(
        _ records: [AuditRecord], firstUses: [KeyAddressUse], firstUseRecord: @escaping @Sendable (KeyAddressUse) -> AuditRecord
    ) async throws(StoreError) -> AuditChain.Head {
        try await database.write { db in
            var all = records
            if !firstUses.isEmpty {
                let seen = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO key_ip_seen (api_key, ip, first_seen) VALUES (?, ?, ?)")
                for use in firstUses {
                    try seen.execute(arguments: [use.apiKey, use.ip, use.at])
                    if db.changesCount == 1 { all.append(firstUseRecord(use)) }
                }
            }
            return try SQLiteAuditLog.append(all, in: db)
        }
    }

    public func head() async throws(StoreError) -> AuditChain.Head {
        try await database.read { db in try SQLiteAuditLog.head(db) }
    }

    public func anchor() async throws(StoreError) -> AuditChain.Head {
        try await database.read { db in try SQLiteAuditLog.anchor(db) }
    }

    public func events(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [sequence, limit])
                .map(SQLiteAuditLog.event)
        }
    }

    public func search(_ query: AuditQuery) async throws(StoreError) -> [AuditEvent] {
        let detail = query.detailValue.map { "%\"\($0)\"%" }
        let events = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM audit_event
                    WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR account = ?2) AND (?3 IS NULL OR action LIKE ?3)
                    AND (?4 IS NULL OR client_ip = ?4) AND (?5 IS NULL OR result = ?5) AND (?6 IS NULL OR time >= ?6)
                    AND (?7 IS NULL OR time < ?7) AND (?8 IS NULL OR details LIKE ?8) AND (?10 IS NULL OR seq < ?10)
                    ORDER BY seq DESC LIMIT ?9
                    """,
                arguments: [
                    query.actor, query.account, query.action.map { "%\($0)%" }, query.clientIP, query.result, query.since,
                    query.until, detail, query.limit, query.beforeSequence,
                ]
            ).map(SQLiteAuditLog.event)
        }
        return events.reversed()
    }

    public func checkpoints() async throws(StoreError) -> [AuditCheckpoint] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_checkpoint ORDER BY seq").map { row in
                AuditCheckpoint(
                    sequence: row["seq"], hash: Array(row["hash"] as Data), time: row["time"],
                    signature: Array(row["signature"] as Data))
            }
        }
    }

    public func add(_ checkpoint: AuditCheckpoint) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO audit_checkpoint (seq, hash, time, signature) VALUES (?, ?, ?, ?)",
                arguments: [checkpoint.sequence, Data(checkpoint.hash), checkpoint.time, Data(checkpoint.signature)])
        }
    }

    public func archive(
        through sequence: Int64, to destination: String, at time: Int64, save: @escaping @Sendable ([AuditEvent]) throws -> Void
    ) async throws(StoreError) -> Int {
        try await database.write { db in
            let events = try Row.fetchAll(
                db, sql: "SELECT * FROM audit_event WHERE seq <= ? ORDER BY seq", arguments: [sequence]
            ).map(SQLiteAuditLog.event)
            guard let last = events.last else { return 0 }
            try save(events)
            try db.execute(sql: "DELETE FROM audit_event WHERE seq <= ?", arguments: [last.sequence])
            try db.execute(
                sql: "INSERT OR REPLACE INTO audit_anchor (id, seq, hash, archived_to, time) VALUES (1, ?, ?, ?, ?)",
                arguments: [last.sequence, Data(last.hash), destination, time])
            return events.count
        }
    }
}
