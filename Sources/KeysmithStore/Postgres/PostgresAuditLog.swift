import Foundation
import KeysmithCore
import PostgresNIO

/// Appending to the audit chain inside a write transaction of ``PostgresDatabase`` (which holds the global write
/// lock, so the head read here stays the head until the transaction commits: one chain, one order, any number of
/// nodes). Used by the PostgreSQL stores not yet written against ``SQLTransaction`` (``AuditLog`` is the shared one).
enum PostgresAuditLog {
    static func head(_ connection: PostgresConnection, _ logger: Logger) async throws -> AuditChain.Head {
        let rows = try await connection.query("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1", logger: logger).rows()
        if let row = rows.first {
            return AuditChain.Head(sequence: try row("seq"), hash: Array(try row("hash", as: Data.self)))
        }
        return try await anchor(connection, logger)
    }

    static func anchor(_ connection: PostgresConnection, _ logger: Logger) async throws -> AuditChain.Head {
        let rows = try await connection.query("SELECT seq, hash FROM audit_anchor WHERE id = 1", logger: logger).rows()
        if let row = rows.first {
            return AuditChain.Head(sequence: try row("seq"), hash: Array(try row("hash", as: Data.self)))
        }
        return .genesis
    }

    /// Chains and inserts `records` (multi-row inserts of up to 1000 events), queueing the alerts they raise.
    @discardableResult
    static func append(_ records: [AuditRecord], on connection: PostgresConnection, _ logger: Logger) async throws -> AuditChain.Head {
        var head = try await head(connection, logger)
        guard !records.isEmpty else { return head }
        var alerts: [(AlertKind, AuditEvent)] = []
        for chunk in stride(from: 0, to: records.count, by: 1000) {
            var bindings = PostgresBindings(capacity: 13 * min(1000, records.count - chunk))
            var sql = """
                INSERT INTO audit_event (seq, time, request_id, actor, account, action, target, client_ip, result, latency_us,
                details, prev_hash, hash) VALUES
                """
            for (index, record) in records[chunk..<min(chunk + 1000, records.count)].enumerated() {
                let event = head.append(record)
                let base = index * 13
                sql += (index == 0 ? " (" : ", (") + (1...13).map { "$\(base + $0)" }.joined(separator: ", ") + ")"
                bindings.append(event.sequence)
                bindings.append(record.time)
                bindings.append(record.requestID)
                bindings.append(record.actor)
                bindings.append(record.account)
                bindings.append(record.action)
                bindings.append(record.target)
                bindings.append(record.clientIP)
                bindings.append(record.result)
                bindings.append(record.latencyMicroseconds)
                bindings.append(AuditDetails.json(record.details))
                try bindings.append(Data(event.previousHash))
                try bindings.append(Data(event.hash))
                if let alert = record.alert { alerts.append((alert, event)) }
            }
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
        for (kind, event) in alerts {
            try await queueAlert(kind, for: event, on: connection, logger)
        }
        return head
    }

    /// One outbox row per sink subscribed to `kind` (or to one named sink).
    static func queueAlert(
        _ kind: AlertKind, for event: AuditEvent, sink: String? = nil, on connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let payload = String(decoding: try JSONEncoder().encode(event.record), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO alert_outbox (sink, kind, audit_seq, payload, status, next_attempt_at, created_at)
            SELECT name, \(kind.rawValue), \(event.sequence), \(payload), 'pending', \(event.record.time), \(event.record.time)
            FROM alert_sink
            WHERE (\(sink)::TEXT IS NULL AND position(',' || \(kind.rawValue) || ',' IN ',' || events || ',') > 0) OR name = \(sink)
            ORDER BY name
            """, logger: logger)
    }
}
