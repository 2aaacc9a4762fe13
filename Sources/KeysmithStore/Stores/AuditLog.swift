import Foundation
import KeysmithCore

/// Appending to the audit chain inside a write transaction, shared by every store that writes state: the head is read
/// in the same transaction, and writers are serialised (SQLite's one writer, PostgreSQL's write lock), so concurrent
/// writers — the server, the CLI, other nodes — still form one chain in one order. The hashing is KeysmithCore's.
enum AuditLog {
    static let eventColumns = "seq, time, request_id, actor, account, action, target, client_ip, result, latency_us, details, prev_hash, hash"

    /// The last event, else the archive anchor, else genesis.
    static func head(_ tx: SQLTransaction) throws(StoreError) -> AuditChain.Head {
        if let head = try tx.fetchOne("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1", Self.head) {
            return head
        }
        return try anchor(tx)
    }

    static func anchor(_ tx: SQLTransaction) throws(StoreError) -> AuditChain.Head {
        try tx.fetchOne("SELECT seq, hash FROM audit_anchor WHERE id = 1", Self.head) ?? .genesis
    }

    /// Chains and inserts `records`, queueing the alerts they raise for every subscribed sink. Events go in
    /// statements of ``SQLTransaction/batchRows`` rows.
    @discardableResult
    static func append(_ records: [AuditRecord], in tx: SQLTransaction) throws(StoreError) -> AuditChain.Head {
        var head = try head(tx)
        guard !records.isEmpty else { return head }
        var alerts: [(AlertKind, AuditEvent)] = []
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(min(records.count, tx.batchRows))
        for record in records {
            let event = head.append(record)
            rows.append([
                .integer(event.sequence), .integer(record.time), .text(record.requestID), .text(record.actor), .text(record.account),
                .text(record.action), .text(record.target), .text(record.clientIP), .text(record.result),
                .integer(record.latencyMicroseconds), .text(AuditDetails.json(record.details)), .blob(Data(event.previousHash)),
                .blob(Data(event.hash)),
            ])
            if let alert = record.alert { alerts.append((alert, event)) }
            if rows.count == tx.batchRows {
                try insert(rows, in: tx)
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty { try insert(rows, in: tx) }
        for (kind, event) in alerts {
            try queueAlert(kind, for: event, in: tx)
        }
        return head
    }

    private static let columns = eventColumns.components(separatedBy: ", ")

    private static func insert(_ rows: [[SQLValue]], in tx: SQLTransaction) throws(StoreError) {
        try tx.execute(SQL.insert(into: "audit_event", columns: columns, rows: rows))
    }

    /// One outbox row per sink subscribed to `kind` (or to one named sink).
    static func queueAlert(_ kind: AlertKind, for event: AuditEvent, sink: String? = nil, in tx: SQLTransaction) throws(StoreError) {
        let payload: String
        do {
            payload = String(decoding: try JSONEncoder().encode(event.record), as: UTF8.self)
        } catch {
            throw StoreError.database("an audit record could not be encoded")
        }
        let time = event.record.time
        // Sinks list their kinds comma-separated; LIKE's wildcards in a kind are escaped with `!` so they match
        // literally (`!` rather than a backslash, whose meaning in a PostgreSQL literal depends on server settings).
        var literal = ""
        for character in kind.rawValue {
            if character == "!" || character == "_" || character == "%" { literal.append("!") }
            literal.append(character)
        }
        let pattern = "%," + literal + ",%"
        try tx.execute(
            """
            INSERT INTO alert_outbox (sink, kind, audit_seq, payload, status, next_attempt_at, created_at)
            SELECT name, \(kind.rawValue), \(event.sequence), \(payload), 'pending', \(time), \(time) FROM alert_sink
            WHERE (CAST(\(sink) AS TEXT) IS NULL AND (',' || events || ',') LIKE \(pattern) ESCAPE '!') OR name = \(sink)
            ORDER BY name
            """)
    }

    static func event(_ row: SQLRow) throws(StoreError) -> AuditEvent {
        let details: [String: String]
        do {
            details = try JSONDecoder().decode([String: String].self, from: Data(try row("details", as: String.self).utf8))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("unreadable details of audit event \(try row("seq", as: Int64.self))")
        }
        let record = AuditRecord(
            time: try row("time"), requestID: try row("request_id"), actor: try row("actor"), account: try row("account"),
            action: try row("action"), target: try row("target"), clientIP: try row("client_ip"), result: try row("result"),
            latencyMicroseconds: try row("latency_us"), details: details)
        return AuditEvent(
            sequence: try row("seq"), record: record, previousHash: Array(try row("prev_hash", as: Data.self)),
            hash: Array(try row("hash", as: Data.self)))
    }

    private static func head(_ row: SQLRow) throws(StoreError) -> AuditChain.Head {
        AuditChain.Head(sequence: try row("seq"), hash: Array(try row("hash", as: Data.self)))
    }
}
