import Foundation
import GRDB
import PostgresNIO

/// Moves an embedded (SQLite) installation into an empty PostgreSQL database, every table and every row: keys
/// keep their ids, sealed secrets and change sequences, balances their ledger entries, and the audit chain its
/// sequence numbers and hashes, so `keysmith audit verify` passes on the copy. One PostgreSQL transaction: the copy
/// is whole or absent. The same master key opens both.
public enum DatabaseCopy {
    /// Tables in an order that satisfies the foreign keys, with their identity column (PostgreSQL's counter is moved
    /// past the copied ids) and the SQLite sort that keeps parents before children.
    package static let tables: [(name: String, identity: String?, order: String)] = [
        ("meta", nil, "name"), ("account", nil, "parent_uid IS NOT NULL, rowid"), ("app", nil, "name"),
        ("api_key", "id", "id"), ("key_event", "id", "id"), ("pending_key_change", nil, "api_key"), ("audit_event", nil, "seq"),
        ("audit_checkpoint", nil, "seq"), ("audit_anchor", nil, "id"), ("key_ip_seen", nil, "api_key, ip"),
        ("alert_sink", nil, "name"), ("alert_outbox", "id", "id"), ("currency", nil, "code"),
        ("balance", nil, "account_uid, kind, ccy"), ("movement", "id", "id"), ("ledger_entry", "id", "id"), ("deposit", "id", "id"),
        ("transfer", "id", "id"), ("instrument", nil, "inst_id"), ("withdrawal_address", nil, "account_uid, ccy, address"),
        ("withdrawal", "id", "id"), ("spot_order", "id", "id"), ("fill", "trade_id", "trade_id"), ("console_user", "id", "id"),
        ("console_signin_failure", nil, "user_id, network"), ("console_session", nil, "key"), ("maintenance_window", "id", "id"),
        ("fee_rate", nil, "level, inst_type"), ("account_fee_level", nil, "account_uid"),
        ("leverage_setting", nil, "account_uid, inst_id, mgn_mode, pos_side"), ("mark_price_pin", nil, "inst_id"),
        ("position", "id", "id"), ("position_history", "id", "id"), ("funding_settlement", nil, "inst_id, funding_time"),
        ("funding_request", "id", "id"), ("mark_price_minute", nil, "inst_id, minute"),
        ("amend_spending", nil, "api_key, at, rowid"),
    ]

    /// The highest value a table's identity counter has handed out: its largest id — and for orders, the queue places
    /// amendments took from the same counter.
    static func highestIdentity(_ table: String, _ identity: String) -> String {
        table == "spot_order" ? "GREATEST(COALESCE(MAX(\(identity)), 0), COALESCE(MAX(queue_seq), 0))" : "COALESCE(MAX(\(identity)), 0)"
    }

    /// SQLite tables that are not copied: GRDB's migration record (PostgreSQL keeps its own).
    package static let notCopied: Set<String> = ["grdb_migrations"]

    /// Integer flags in SQLite that are BOOLEAN in PostgreSQL.
    static let booleans: Set<String> = [
        "account.deposits_allowed", "account.frozen", "account.can_transfer_out", "currency.can_deposit", "currency.can_withdraw",
        "console_user.totp_enabled",
    ]

    /// Rows copied per table.
    public struct Report: Sendable, Encodable {
        public var rows: [String: Int]
    }

    /// Copies `source` into `target`, which must hold no account yet (a fresh, migrated database). Tables the target's
    /// migrations filled (currencies, instruments, the fee schedule) are replaced by the source's.
    public static func copy(from source: SQLiteDatabase, to target: PostgresDatabase) async throws(StoreError) -> Report {
        var data: [(table: String, identity: String?, columns: [String], rows: [[DatabaseValue]])] = []
        for table in tables {
            let (columns, rows) = try await source.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table.name) ORDER BY \(table.order)")
                let columns = rows.first.map { Array($0.columnNames) } ?? []
                return (columns, rows.map { row in columns.map { row[$0] as DatabaseValue } })
            }
            data.append((table.name, table.identity, columns, rows))
        }
        let snapshot = data
        return try await target.write { connection, logger in
            let existing = try await connection.query("SELECT COUNT(*) FROM account", logger: logger).collect(Int64.self).first ?? 0
            guard existing == 0 else {
                throw StoreError.duplicate("the target database already holds an installation (\(existing) accounts)")
            }
            for table in ["currency", "instrument", "fee_rate"] {
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            var report = Report(rows: [:])
            for table in snapshot {
                report.rows[table.table] = table.rows.count
                guard !table.columns.isEmpty else { continue }
                let perRow = table.columns.count
                let chunkSize = max(1, 30_000 / perRow)
                for start in stride(from: 0, to: table.rows.count, by: chunkSize) {
                    let chunk = table.rows[start..<min(start + chunkSize, table.rows.count)]
                    var bindings = PostgresBindings(capacity: chunk.count * perRow)
                    var placeholders: [String] = []
                    for (index, row) in chunk.enumerated() {
                        placeholders.append("(" + (1...perRow).map { "$\(index * perRow + $0)" }.joined(separator: ", ") + ")")
                        for (column, value) in zip(table.columns, row) {
                            try append(value, boolean: booleans.contains("\(table.table).\(column)"), to: &bindings)
                        }
                    }
                    let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
                    let sql = "INSERT INTO \(table.table) (\(table.columns.joined(separator: ", ")))\(overriding) VALUES "
                        + placeholders.joined(separator: ", ")
                    try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                }
                if let identity = table.identity {
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT setval(pg_get_serial_sequence('\(table.table)', '\(identity)'),
                                \(Self.highestIdentity(table.table, identity)) + 1, false) FROM \(table.table)
                                """), logger: logger)
                }
                let copied = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table.table)"), logger: logger
                ).collect(Int64.self).first ?? 0
                guard copied == Int64(table.rows.count) else {
                    throw StoreError.database("\(table.table): \(table.rows.count) rows read but \(copied) in the target")
                }
            }
            return report
        }
    }

    private static func append(_ value: DatabaseValue, boolean: Bool, to bindings: inout PostgresBindings) throws {
        switch value.storage {
        case .null:
            bindings.appendNull()
        case .int64(let number):
            if boolean { bindings.append(number != 0) } else { bindings.append(number) }
        case .double(let number):
            bindings.append(number)
        case .string(let text):
            bindings.append(text)
        case .blob(let bytes):
            bindings.append(ByteBuffer(bytes: bytes))
        }
    }
}
