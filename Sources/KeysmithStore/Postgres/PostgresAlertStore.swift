import Foundation
import KeysmithCore
import PostgresNIO

/// ``AlertStore`` on PostgreSQL. Outbox rows are also written by ``PostgresAuditLog`` inside the transaction of the
/// event that raises them.
///
/// Several nodes run a delivery worker each, so ``claimDueDeliveries(now:limit:lease:)`` *claims* the rows it
/// returns: it pushes their next attempt `lease` milliseconds into the future in the same statement
/// (`FOR UPDATE SKIP LOCKED`), so another node neither blocks on them nor sends them too. A node that dies
/// mid-delivery leaves its claim to expire, and a live node retries: delivery stays at-least-once, as on one node.
public struct PostgresAlertStore: AlertStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func insert(sink: AlertSink) async throws(StoreError) {
        let events = sink.events.map(\.rawValue).sorted().joined(separator: ",")
        let secret = sink.sealedSecret.map { ByteBuffer(bytes: $0) }
        try await database.write { connection, logger in
            let inserted = try await connection.query(
                """
                INSERT INTO alert_sink (name, kind, target, email_from, email_to, events, sealed_secret, created_at)
                VALUES (\(sink.name), \(sink.kind.rawValue), \(sink.target), \(sink.emailFrom), \(sink.emailTo), \(events),
                \(secret), \(sink.createdAt))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger
            ).collect(String.self)
            guard !inserted.isEmpty else { throw StoreError.duplicate("an alert sink named \(sink.name) already exists") }
        }
    }

    public func sinks() async throws(StoreError) -> [AlertSink] {
        try await fetchSinks("SELECT * FROM alert_sink ORDER BY created_at, name")
    }

    public func sink(named name: String) async throws(StoreError) -> AlertSink? {
        try await fetchSinks("SELECT * FROM alert_sink WHERE name = \(name)").first
    }

    public func removeSink(named name: String) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            try await connection.query("DELETE FROM alert_outbox WHERE sink = \(name) AND status = 'pending'", logger: logger)
            return try await !connection.query("DELETE FROM alert_sink WHERE name = \(name) RETURNING name", logger: logger)
                .collect(String.self).isEmpty
        }
    }

    public func enqueue(_ record: AuditRecord, sequence: Int64, kind: AlertKind, sink: String, at time: Int64) async throws(StoreError) {
        try await database.write { connection, logger in
            let event = AuditEvent(sequence: sequence, record: record, previousHash: [], hash: [])
            try await PostgresAuditLog.queueAlert(kind, for: event, sink: sink, on: connection, logger)
        }
    }

    public func dueDeliveries(now: Int64, limit: Int) async throws(StoreError) -> [AlertDelivery] {
        try await deliveries(
            """
            SELECT id, sink, kind, audit_seq, payload, attempts, created_at FROM alert_outbox
            WHERE status = 'pending' AND next_attempt_at <= \(now) ORDER BY next_attempt_at, id LIMIT \(Int64(limit))
            """)
    }

    public func claimDueDeliveries(now: Int64, limit: Int, lease: Int64) async throws(StoreError) -> [AlertDelivery] {
        try await deliveries(
            """
            UPDATE alert_outbox SET next_attempt_at = \(now + lease)
            WHERE id IN (
                SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= \(now)
                ORDER BY next_attempt_at, id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
            RETURNING id, sink, kind, audit_seq, payload, attempts, created_at
            """
        ).sorted { $0.id < $1.id }
    }

    private func deliveries(_ query: PostgresQuery) async throws(StoreError) -> [AlertDelivery] {
        let rows = try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map { row in
                (try row("id", as: Int64.self), try row("sink", as: String.self), try row("kind", as: String.self),
                 try row("audit_seq", as: Int64.self), try row("payload", as: String.self), Int(try row("attempts", as: Int32.self)),
                 try row("created_at", as: Int64.self))
            }
        }
        return try rows.map { row throws(StoreError) in
            try AlertDelivery.decode(
                id: row.0, sink: row.1, kind: row.2, auditSequence: row.3, payload: row.4, attempts: row.5, createdAt: row.6)
        }
    }

    public func nextDueTime() async throws(StoreError) -> Int64? {
        try await database.read { connection, logger in
            try await connection.query(
                "SELECT MIN(next_attempt_at)::BIGINT FROM alert_outbox WHERE status = 'pending'", logger: logger
            ).collect(Int64?.self).first ?? nil
        }
    }

    public func markDelivered(id: Int64, at time: Int64) async throws(StoreError) {
        try await database.read { connection, logger in
            try await connection.query(
                """
                UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = \(time), last_error = ''
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func markFailed(id: Int64, attempts: Int, retryAt: Int64?, error: String) async throws(StoreError) {
        let message = String(error.prefix(300))
        try await database.read { connection, logger in
            try await connection.query(
                """
                UPDATE alert_outbox SET attempts = \(Int32(clamping: attempts)), last_error = \(message),
                status = CASE WHEN \(retryAt)::BIGINT IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_at = COALESCE(\(retryAt)::BIGINT, next_attempt_at) WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func retryDead(sink: String?, at time: Int64) async throws(StoreError) -> Int {
        try await database.read { connection, logger in
            try await connection.query(
                """
                UPDATE alert_outbox SET status = 'pending', attempts = 0, next_attempt_at = \(time)
                WHERE status = 'dead' AND (\(sink)::TEXT IS NULL OR sink = \(sink)) RETURNING id
                """, logger: logger
            ).collect(Int64.self).count
        }
    }

    public func deliveryStatus() async throws(StoreError) -> [AlertSinkStatus] {
        try await database.read { connection, logger in
            try await connection.query(
                """
                SELECT s.name AS sink,
                  (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'pending') AS pending,
                  (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'delivered') AS delivered,
                  (SELECT COUNT(*) FROM alert_outbox o WHERE o.sink = s.name AND o.status = 'dead') AS dead,
                  COALESCE((SELECT last_error FROM alert_outbox o WHERE o.sink = s.name AND o.last_error != ''
                    ORDER BY o.id DESC LIMIT 1), '') AS last_error,
                  (SELECT MAX(delivered_at) FROM alert_outbox o WHERE o.sink = s.name)::BIGINT AS last_delivered
                FROM alert_sink s ORDER BY s.created_at, s.name
                """, logger: logger
            ).rows().map { row in
                AlertSinkStatus(
                    sink: try row("sink"), pending: Int(try row("pending", as: Int64.self)),
                    delivered: Int(try row("delivered", as: Int64.self)), dead: Int(try row("dead", as: Int64.self)),
                    lastError: try row("last_error"), lastDeliveredAt: try row("last_delivered"))
            }
        }
    }

    private func fetchSinks(_ query: PostgresQuery) async throws(StoreError) -> [AlertSink] {
        try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().compactMap { row -> AlertSink? in
                guard let kind = AlertSink.Kind(rawValue: try row("kind")) else { return nil }
                let events = try row("events", as: String.self).split(separator: ",").compactMap { AlertKind(rawValue: String($0)) }
                return AlertSink(
                    name: try row("name"), kind: kind, target: try row("target"), emailFrom: try row("email_from"),
                    emailTo: try row("email_to"), events: Set(events),
                    sealedSecret: try row("sealed_secret", as: Data?.self).map { Array($0) }, createdAt: try row("created_at"))
            }
        }
    }
}
