import Foundation
import GRDB
import KeysmithCore

/// Appending to the audit chain inside a write transaction, shared by every SQLite store that writes state: the
/// head is read in the same transaction, so concurrent writers (server, CLI) still form one chain.
enum SQLiteAuditLog {
    /// The last event, else the archive anchor, else genesis.
    static func head(_ db: Database) throws -> AuditChain.Head {
        if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1") {
            return AuditChain.Head(sequence: row["seq"], hash: Array(row["hash"] as Data))
        }
        return try anchor(db)
    }

    static func anchor(_ db: Database) throws -> AuditChain.Head {
        if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1") {
            return AuditChain.Head(sequence: row["seq"], hash: Array(row["hash"] as Data))
        }
        return .genesis
    }

    /// Chains and inserts `records`, queueing the alerts they raise for every subscribed sink.
    @discardableResult
    static func append(_ records: [AuditRecord], in db: Database) throws -> AuditChain.Head {
        guard !records.isEmpty else { return try head(db) }
        var head = try head(db)
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO audit_event (seq, time, request_id, actor, account, action, target, client_ip, result,
                latency_us, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for record in records {
            let event = head.append(record)
            try insert.execute(arguments: [
                event.sequence, record.time, record.requestID, record.actor, record.account, record.action, record.target,
                record.clientIP, record.result, record.latencyMicroseconds, AuditDetails.json(record.details),
                Data(event.previousHash), Data(event.hash),
            ])
            if let alert = record.alert { try queueAlert(alert, for: event, in: db) }
        }
        return head
    }

    /// One outbox row per sink subscribed to `kind` (or to one named sink).
    static func queueAlert(_ kind: AlertKind, for event: AuditEvent, sink: String? = nil, in db: Database) throws {
        let payload = String(decoding: try JSONEncoder().encode(event.record), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO alert_outbox (sink, kind, audit_seq, payload, status, next_attempt_at, created_at)
                SELECT name, ?, ?, ?, 'pending', ?, ? FROM alert_sink
                WHERE (? IS NULL AND instr(',' || events || ',', ',' || ? || ',') > 0) OR name = ?
                """,
            arguments: [kind.rawValue, event.sequence, payload, event.record.time, event.record.time, sink, kind.rawValue, sink])
    }

    static func event(_ row: Row) throws -> AuditEvent {
        let details = try JSONDecoder().decode([String: String].self, from: Data((row["details"] as String).utf8))
        let record = AuditRecord(
            time: row["time"], requestID: row["request_id"], actor: row["actor"], account: row["account"], action: row["action"],
            target: row["target"], clientIP: row["client_ip"], result: row["result"], latencyMicroseconds: row["latency_us"],
            details: details)
        return AuditEvent(
            sequence: row["seq"], record: record, previousHash: Array(row["prev_hash"] as Data), hash: Array(row["hash"] as Data))
    }
}
