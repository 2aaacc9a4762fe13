import Foundation
import KeysmithCore
import PostgresNIO

/// ``AuditStore`` on PostgreSQL. Appends hold the database's write lock (see ``PostgresDatabase``), so events from
/// every node join one chain; `keysmith audit verify` checks it exactly as on SQLite.
public struct PostgresAuditStore: AuditStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    @discardableResult
    public func append(
        _ records: [AuditRecord], firstUses: [KeyAddressUse], firstUseRecord: @escaping @Sendable (KeyAddressUse) -> AuditRecord
    ) async throws(StoreError) -> AuditChain.Head {
        try await database.write { connection, logger in
            var all = records
            for use in firstUses {
                let inserted = try await connection.query(
                    """
                    INSERT INTO key_ip_seen (api_key, ip, first_seen) VALUES (\(use.apiKey), \(use.ip), \(use.at))
                    ON CONFLICT (api_key, ip) DO NOTHING RETURNING api_key
                    """, logger: logger
                ).collect(String.self)
                if !inserted.isEmpty { all.append(firstUseRecord(use)) }
            }
            return try await PostgresAuditLog.append(all, on: connection, logger)
        }
    }

    public func head() async throws(StoreError) -> AuditChain.Head {
        try await database.read { connection, logger in try await PostgresAuditLog.head(connection, logger) }
    }

    public func anchor() async throws(StoreError) -> AuditChain.Head {
        try await database.read { connection, logger in try await PostgresAuditLog.anchor(connection, logger) }
    }

    public func events(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        try await events(
            "SELECT \(unescaped: PostgresAuditLog.eventColumns) FROM audit_event WHERE seq > \(sequence) ORDER BY seq LIMIT \(Int64(limit))")
    }

    public func search(_ query: AuditQuery) async throws(StoreError) -> [AuditEvent] {
        let action = query.action.map { "%\($0)%" }
        let detail = query.detailValue.map { "%\"\($0)\"%" }
        return try await events(
            """
            SELECT \(unescaped: PostgresAuditLog.eventColumns) FROM audit_event
            WHERE (\(query.actor)::TEXT IS NULL OR actor = \(query.actor)) AND (\(query.account)::TEXT IS NULL OR account = \(query.account))
            AND (\(action)::TEXT IS NULL OR action ILIKE \(action)) AND (\(query.clientIP)::TEXT IS NULL OR client_ip = \(query.clientIP))
            AND (\(query.result)::TEXT IS NULL OR result = \(query.result)) AND (\(query.since)::BIGINT IS NULL OR time >= \(query.since))
            AND (\(query.until)::BIGINT IS NULL OR time < \(query.until)) AND (\(detail)::TEXT IS NULL OR details LIKE \(detail))
            AND (\(query.beforeSequence)::BIGINT IS NULL OR seq < \(query.beforeSequence))
            ORDER BY seq DESC LIMIT \(Int64(query.limit))
            """
        ).reversed()
    }

    public func checkpoints() async throws(StoreError) -> [AuditCheckpoint] {
        try await database.read { connection, logger in
            try await connection.query("SELECT seq, hash, time, signature FROM audit_checkpoint ORDER BY seq", logger: logger).rows().map { row in
                AuditCheckpoint(
                    sequence: try row("seq"), hash: Array(try row("hash", as: Data.self)), time: try row("time"),
                    signature: Array(try row("signature", as: Data.self)))
            }
        }
    }

    public func add(_ checkpoint: AuditCheckpoint) async throws(StoreError) {
        try await database.write { connection, logger in
            try await connection.query(
                """
                INSERT INTO audit_checkpoint (seq, hash, time, signature)
                VALUES (\(checkpoint.sequence), \(Data(checkpoint.hash)), \(checkpoint.time), \(Data(checkpoint.signature)))
                ON CONFLICT (seq) DO UPDATE SET hash = EXCLUDED.hash, time = EXCLUDED.time, signature = EXCLUDED.signature
                """, logger: logger)
        }
    }

    public func archive(
        through sequence: Int64, to destination: String, at time: Int64, save: @escaping @Sendable ([AuditEvent]) throws -> Void
    ) async throws(StoreError) -> Int {
        try await database.write { connection, logger in
            let events = try await connection.query(
                "SELECT \(unescaped: PostgresAuditLog.eventColumns) FROM audit_event WHERE seq <= \(sequence) ORDER BY seq", logger: logger
            ).rows().map(PostgresAuditLog.event)
            guard let last = events.last else { return 0 }
            try save(events)
            try await connection.query("DELETE FROM audit_event WHERE seq <= \(last.sequence)", logger: logger)
            try await connection.query(
                """
                INSERT INTO audit_anchor (id, seq, hash, archived_to, time) VALUES (1, \(last.sequence), \(Data(last.hash)),
                \(destination), \(time))
                ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, archived_to = EXCLUDED.archived_to,
                time = EXCLUDED.time
                """, logger: logger)
            return events.count
        }
    }

    private func events(_ query: PostgresQuery) async throws(StoreError) -> [AuditEvent] {
        try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map(PostgresAuditLog.event)
        }
    }
}
