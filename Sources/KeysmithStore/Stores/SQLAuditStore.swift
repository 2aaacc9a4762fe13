import Foundation
import KeysmithCore

/// ``AuditStore`` on either database. Appends run in a write transaction, so events from the server, the CLI and
/// every PostgreSQL node join one chain; `keysmith audit verify` checks it the same way on both.
public struct SQLAuditStore: AuditStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    @discardableResult
    public func append(
        _ records: [AuditRecord], firstUses: [KeyAddressUse], firstUseRecord: @escaping @Sendable (KeyAddressUse) -> AuditRecord
    ) async throws(StoreError) -> AuditChain.Head {
        try await database.write { tx throws(StoreError) in
            var all = records
            for use in firstUses {
                let inserted = try tx.execute(
                    """
                    INSERT INTO key_ip_seen (api_key, ip, first_seen) VALUES (\(use.apiKey), \(use.ip), \(use.at))
                    ON CONFLICT (api_key, ip) DO NOTHING
                    """)
                if inserted == 1 { all.append(firstUseRecord(use)) }
            }
            return try AuditLog.append(all, in: tx)
        }
    }

    public func head() async throws(StoreError) -> AuditChain.Head {
        try await database.read { tx throws(StoreError) in try AuditLog.head(tx) }
    }

    public func anchor() async throws(StoreError) -> AuditChain.Head {
        try await database.read { tx throws(StoreError) in try AuditLog.anchor(tx) }
    }

    public func events(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        try await database.fetchAll(
            "SELECT \(unsafe: AuditLog.eventColumns) FROM audit_event WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)",
            AuditLog.event)
    }

    public func search(_ query: AuditQuery) async throws(StoreError) -> [AuditEvent] {
        let action = query.action.map { "%\($0)%" }
        let detail = query.detailValue.map { "%\"\($0)\"%" }
        return try await database.fetchAll(
            """
            SELECT \(unsafe: AuditLog.eventColumns) FROM audit_event
            WHERE (CAST(\(query.actor) AS TEXT) IS NULL OR actor = \(query.actor))
            AND (CAST(\(query.account) AS TEXT) IS NULL OR account = \(query.account))
            AND (CAST(\(action) AS TEXT) IS NULL OR LOWER(action) LIKE LOWER(\(action)))
            AND (CAST(\(query.clientIP) AS TEXT) IS NULL OR client_ip = \(query.clientIP))
            AND (CAST(\(query.result) AS TEXT) IS NULL OR result = \(query.result))
            AND (CAST(\(query.since) AS BIGINT) IS NULL OR time >= \(query.since))
            AND (CAST(\(query.until) AS BIGINT) IS NULL OR time < \(query.until))
            AND (CAST(\(detail) AS TEXT) IS NULL OR details LIKE \(detail))
            AND (CAST(\(query.beforeSequence) AS BIGINT) IS NULL OR seq < \(query.beforeSequence))
            ORDER BY seq DESC LIMIT \(query.limit)
            """, AuditLog.event
        ).reversed()
    }

    public func checkpoints() async throws(StoreError) -> [AuditCheckpoint] {
        try await database.fetchAll("SELECT seq, hash, time, signature FROM audit_checkpoint ORDER BY seq") { row throws(StoreError) in
            AuditCheckpoint(
                sequence: try row("seq"), hash: Array(try row("hash", as: Data.self)), time: try row("time"),
                signature: Array(try row("signature", as: Data.self)))
        }
    }

    public func add(_ checkpoint: AuditCheckpoint) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try tx.execute(
                """
                INSERT INTO audit_checkpoint (seq, hash, time, signature)
                VALUES (\(checkpoint.sequence), \(checkpoint.hash), \(checkpoint.time), \(checkpoint.signature))
                ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash, time = excluded.time, signature = excluded.signature
                """)
        }
    }

    public func archive(
        through sequence: Int64, to destination: String, at time: Int64, save: @escaping @Sendable ([AuditEvent]) throws -> Void
    ) async throws(StoreError) -> Int {
        try await database.write { tx throws(StoreError) in
            let events = try tx.fetchAll(
                "SELECT \(unsafe: AuditLog.eventColumns) FROM audit_event WHERE seq <= \(sequence) ORDER BY seq", AuditLog.event)
            guard let last = events.last else { return 0 }
            do {
                try save(events)
            } catch {
                throw StoreError.file("the archive could not be saved: \(error)")
            }
            try tx.execute("DELETE FROM audit_event WHERE seq <= \(last.sequence)")
            try tx.execute(
                """
                INSERT INTO audit_anchor (id, seq, hash, archived_to, time) VALUES (1, \(last.sequence), \(last.hash), \(destination),
                \(time))
                ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, archived_to = excluded.archived_to,
                time = excluded.time
                """)
            return events.count
        }
    }
}
