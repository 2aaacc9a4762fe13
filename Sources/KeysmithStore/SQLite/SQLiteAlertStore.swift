import Foundation
import GRDB
import KeysmithCore

/// ``AlertStore`` on the embedded SQLite database. Outbox rows are also written by ``AuditLog`` inside the
/// transaction of the event that raises them.
public struct SQLiteAlertStore: AlertStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insert(sink: AlertSink) async throws(StoreError) {
        try await database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM alert_sink WHERE name = ?", arguments: [sink.name]) == true {
                throw StoreError.duplicate("an alert sink named \(sink.name) already exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO alert_sink (name, kind, target, email_from, email_to, events, sealed_secret, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    sink.name, sink.kind.rawValue, sink.target, sink.emailFrom, sink.emailTo,
                    sink.events.map(\.rawValue).sorted().joined(separator: ","), sink.sealedSecret.map { Data($0) },
                    sink.createdAt,
                ])
        }
    }

    public func sinks() async throws(StoreError) -> [AlertSink] {
        try await fetchSinks(sql: "SELECT * FROM alert_sink ORDER BY created_at, name", arguments: [])
    }

    public func sink(named name: String) async throws(StoreError) -> AlertSink? {
        try await fetchSinks(sql: "SELECT * FROM alert_sink WHERE name = ?", arguments: [name]).first
    }

    public func removeSink(named name: String) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM alert_outbox WHERE sink = ? AND status = 'pending'", arguments: [name])
            try db.execute(sql: "DELETE FROM alert_sink WHERE name = ?", arguments: [name])
            return db.changesCount == 1
        }
    }

    public func enqueue(_ record: AuditRecord, sequence: Int64, kind: AlertKind, sink: String, at time: Int64) async throws(StoreError) {
        try await database.write { db in
            let event = AuditEvent(sequence: sequence, record: record, previousHash: [], hash: [])
            try AuditLog.queueAlert(kind, for: event, sink: sink, in: SQLTransaction(db))
        }
    }

    public func dueDeliveries(now: Int64, limit: Int) async throws(StoreError) -> [AlertDelivery] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, sink, kind, audit_seq, payload, attempts, created_at FROM alert_outbox
                    WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                    """,
                arguments: [now, limit]
            ).map { row in
                (row["id"] as Int64, row["sink"] as String, row["kind"] as String, row["audit_seq"] as Int64,
                 row["payload"] as String, row["attempts"] as Int, row["created_at"] as Int64)
            }
        }
        return try rows.map { row throws(StoreError) in
            try AlertDelivery.decode(
                id: row.0, sink: row.1, kind: row.2, auditSequence: row.3, payload: row.4, attempts: row.5, createdAt: row.6)
        }
    }

    public func nextDueTime() async throws(StoreError) -> Int64? {
        try await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM alert_outbox WHERE status = 'pending'")
        }
    }

    public func markDelivered(id: Int64, at time: Int64) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = ''
                    WHERE id = ?
                    """,
                arguments: [time, id])
        }
    }

    public func markFailed(id: Int64, attempts: Int, retryAt: Int64?, error: String) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE alert_outbox SET attempts = ?, last_error = ?, status = CASE WHEN ? IS NULL THEN 'dead' ELSE 'pending' END,
                    next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?
                    """,
                arguments: [attempts, String(error.prefix(300)), retryAt, retryAt, id])
        }
    }

    public func retryDead(sink: String?, at time: Int64) async throws(StoreError) -> Int {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE alert_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?
                    WHERE status = 'dead' AND (? IS NULL OR sink = ?)
                    """,
                arguments: [time, sink, sink])
            return db.changesCount
        }
    }

    public func deliveryStatus() async throws(StoreError) -> [AlertSinkStatus] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.name AS sink,
                      (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'pending') AS pending,
                      (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'delivered') AS delivered,
                      (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'dead') AS dead,
                      COALESCE((SELECT last_error FROM alert_outbox o WHERE o.sink = s.name AND o.last_error != ''
                        ORDER BY o.id DESC LIMIT 1), '') AS last_error,
                      (SELECT MAX(delivered_at) FROM alert_outbox o WHERE o.sink = s.name) AS last_delivered
                    FROM alert_sink s ORDER BY s.created_at, s.name
                    """
            ).map { row in
                AlertSinkStatus(
                    sink: row["sink"], pending: row["pending"], delivered: row["delivered"], dead: row["dead"],
                    lastError: row["last_error"], lastDeliveredAt: row["last_delivered"])
            }
        }
    }

    private func fetchSinks(sql: String, arguments: StatementArguments) async throws(StoreError) -> [AlertSink] {
        try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row -> AlertSink? in
                guard let kind = AlertSink.Kind(rawValue: row["kind"]) else { return nil }
                let events = (row["events"] as String).split(separator: ",").compactMap { AlertKind(rawValue: String($0)) }
                return AlertSink(
                    name: row["name"], kind: kind, target: row["target"], emailFrom: row["email_from"], emailTo: row["email_to"],
                    events: Set(events), sealedSecret: (row["sealed_secret"] as Data?).map { Array($0) },
                    createdAt: row["created_at"])
            }
        }
    }
}
