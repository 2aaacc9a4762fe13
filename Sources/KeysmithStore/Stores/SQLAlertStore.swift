import Foundation
import KeysmithCore

/// ``AlertStore`` on either database. Outbox rows are also written by ``AuditLog`` inside the transaction of the event
/// that raises them.
///
/// Several PostgreSQL nodes run a delivery worker each, so ``claimDueDeliveries(now:limit:lease:)`` *claims* the rows
/// it returns: it pushes their next attempt `lease` milliseconds into the future in the same statement (with
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL), so another node neither blocks on them nor sends them too. A process that
/// dies mid-delivery leaves its claim to expire and the rows are retried: delivery is at-least-once.
public struct SQLAlertStore: AlertStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func insert(sink: AlertSink) async throws(StoreError) {
        let events = sink.events.map(\.rawValue).sorted().joined(separator: ",")
        try await database.write { tx throws(StoreError) in
            let inserted = try tx.execute(
                """
                INSERT INTO alert_sink (name, kind, target, email_from, email_to, events, sealed_secret, created_at)
                VALUES (\(sink.name), \(sink.kind.rawValue), \(sink.target), \(sink.emailFrom), \(sink.emailTo), \(events),
                \(sink.sealedSecret), \(sink.createdAt))
                ON CONFLICT (name) DO NOTHING
                """)
            guard inserted == 1 else { throw StoreError.duplicate(.alertSink, "an alert sink named \(sink.name) already exists") }
        }
    }

    public func sinks() async throws(StoreError) -> [AlertSink] {
        try await database.fetchAll("SELECT * FROM alert_sink ORDER BY created_at, name", Self.sink).compactMap { $0 }
    }

    public func sink(named name: String) async throws(StoreError) -> AlertSink? {
        try await database.fetchOne("SELECT * FROM alert_sink WHERE name = \(name)", Self.sink) ?? nil
    }

    public func removeSink(named name: String) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            try tx.execute("DELETE FROM alert_outbox WHERE sink = \(name) AND status = 'pending'")
            return try tx.execute("DELETE FROM alert_sink WHERE name = \(name)") == 1
        }
    }

    public func enqueue(_ record: AuditRecord, sequence: Int64, kind: AlertKind, sink: String, at time: Int64) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            let event = AuditEvent(sequence: sequence, record: record, previousHash: [], hash: [])
            try AuditLog.queueAlert(kind, for: event, sink: sink, in: tx)
        }
    }

    public func dueDeliveries(now: Int64, limit: Int) async throws(StoreError) -> [AlertDelivery] {
        try await database.fetchAll(
            """
            SELECT id, sink, kind, audit_seq, payload, attempts, created_at FROM alert_outbox
            WHERE status = 'pending' AND next_attempt_at <= \(now) ORDER BY next_attempt_at, id LIMIT \(limit)
            """, Self.delivery)
    }

    public func claimDueDeliveries(now: Int64, limit: Int, lease: Int64) async throws(StoreError) -> [AlertDelivery] {
        let (leaseEnd, overflow) = now.addingReportingOverflow(lease)
        let until = overflow ? Int64.max : leaseEnd
        // Most polls find nothing due: a read answers them without taking SQLite's writer.
        let due = try await database.fetchOne(
            "SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= \(now) LIMIT 1") { row throws(StoreError) in
            try row("id", as: Int64.self)
        }
        guard due != nil else { return [] }
        return try await database.update { tx throws(StoreError) in
            try tx.fetchAll(
                .either(
                    sqlite: """
                        UPDATE alert_outbox SET next_attempt_at = \(until)
                        WHERE id IN (
                            SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= \(now)
                            ORDER BY next_attempt_at, id LIMIT \(limit))
                        RETURNING id, sink, kind, audit_seq, payload, attempts, created_at
                        """,
                    postgres: """
                        UPDATE alert_outbox SET next_attempt_at = \(until)
                        WHERE id IN (
                            SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= \(now)
                            ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                        RETURNING id, sink, kind, audit_seq, payload, attempts, created_at
                        """),
                Self.delivery)
        }.sorted { $0.id < $1.id }
    }

    public func nextDueTime() async throws(StoreError) -> Int64? {
        try await database.value("SELECT CAST(MIN(next_attempt_at) AS BIGINT) FROM alert_outbox WHERE status = 'pending'", as: Int64?.self)
            ?? nil
    }

    // Delivery bookkeeping needs no place in the write order (no audit event).

    public func markDelivered(id: Int64, at time: Int64) async throws(StoreError) {
        try await database.execute(
            """
            UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = \(time), last_error = ''
            WHERE id = \(id)
            """)
    }

    public func markFailed(id: Int64, attempts: Int, retryAt: Int64?, error: String) async throws(StoreError) {
        let message = String(error.prefix(300))
        try await database.execute(
            """
            UPDATE alert_outbox SET attempts = \(Int32(clamping: attempts)), last_error = \(message),
            status = CASE WHEN CAST(\(retryAt) AS BIGINT) IS NULL THEN 'dead' ELSE 'pending' END,
            next_attempt_at = COALESCE(CAST(\(retryAt) AS BIGINT), next_attempt_at) WHERE id = \(id)
            """)
    }

    public func retryDead(sink: String?, at time: Int64) async throws(StoreError) -> Int {
        try await database.execute(
            """
            UPDATE alert_outbox SET status = 'pending', attempts = 0, next_attempt_at = \(time)
            WHERE status = 'dead' AND (CAST(\(sink) AS TEXT) IS NULL OR sink = \(sink))
            """)
    }

    public func deliveryStatus() async throws(StoreError) -> [AlertSinkStatus] {
        try await database.fetchAll(
            """
            SELECT s.name AS sink,
              (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'pending') AS pending,
              (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'delivered') AS delivered,
              (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'dead') AS dead,
              COALESCE((SELECT last_error FROM alert_outbox o WHERE o.sink = s.name AND o.last_error != ''
                ORDER BY o.id DESC LIMIT 1), '') AS last_error,
              CAST((SELECT MAX(delivered_at) FROM alert_outbox o WHERE o.sink = s.name) AS BIGINT) AS last_delivered
            FROM alert_sink s ORDER BY s.created_at, s.name
            """
        ) { row throws(StoreError) in
            AlertSinkStatus(
                sink: try row("sink"), pending: try row("pending"), delivered: try row("delivered"), dead: try row("dead"),
                lastError: try row("last_error"), lastDeliveredAt: try row("last_delivered"))
        }
    }

    // MARK: - Rows

    static func delivery(_ row: SQLRow) throws(StoreError) -> AlertDelivery {
        try AlertDelivery.decode(
            id: try row("id"), sink: try row("sink"), kind: try row("kind"), auditSequence: try row("audit_seq"),
            payload: try row("payload"), attempts: try row("attempts"), createdAt: try row("created_at"))
    }

    static func sink(_ row: SQLRow) throws(StoreError) -> AlertSink? {
        guard let kind = AlertSink.Kind(rawValue: try row("kind")) else { return nil }
        let events = try row("events", as: String.self).split(separator: ",").compactMap { AlertKind(rawValue: String($0)) }
        return AlertSink(
            name: try row("name"), kind: kind, target: try row("target"), emailFrom: try row("email_from"),
            emailTo: try row("email_to"), events: Set(events), sealedSecret: try row("sealed_secret", as: Data?.self).map { Array($0) },
            createdAt: try row("created_at"))
    }
}
