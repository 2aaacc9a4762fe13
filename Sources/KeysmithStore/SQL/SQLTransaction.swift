import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO

/// Statements run in one transaction (or one read) of either database, synchronously: the store code that keeps an
/// invariant (read a balance, check it, write the movement and the audit event) is written once, against this type,
/// and each database runs it in its own transaction runner (``SQLDatabase/write(_:)``).
///
/// On SQLite the statements run on GRDB's writer (or a reader) connection, cached and prepared once. On PostgreSQL
/// the body runs on a thread of the database's own pool, never on an event loop or the cooperative pool, and waits for
/// each statement on the connection it leased: one transaction is one connection, in order, like SQLite.
public struct SQLTransaction {
    enum Connection {
        case sqlite(GRDB.Database)
        case postgres(PostgresConnection, Logger)
    }

    let connection: Connection

    /// How many rows a batch insert puts in one statement: one on SQLite (the statement is prepared once and cached,
    /// and each step is a function call), many on PostgreSQL (each statement is a round trip).
    public var batchRows: Int {
        switch connection {
        case .sqlite: 1
        case .postgres: 1000
        }
    }

    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    public func execute(_ statement: SQL) throws(StoreError) -> Int {
        switch connection {
        case .sqlite(let db):
            do {
                let prepared = try db.cachedStatement(sql: statement.sqliteText)
                try prepared.execute(arguments: SQLiteDatabase.arguments(statement.sqliteArguments))
                return db.changesCount
            } catch {
                throw SQLiteDatabase.storeError(error)
            }
        case .postgres(let connection, let logger):
            let result = try PostgresDatabase.wait(for: connection, statement, logger)
            return result.metadata.rows ?? 0
        }
    }

    /// Every row of a query, decoded.
    public func fetchAll<T>(_ statement: SQL, _ decode: (SQLRow) throws(StoreError) -> T) throws(StoreError) -> [T] {
        switch connection {
        case .sqlite(let db):
            let rows: [GRDB.Row]
            do {
                let prepared = try db.cachedStatement(sql: statement.sqliteText)
                rows = try GRDB.Row.fetchAll(prepared, arguments: SQLiteDatabase.arguments(statement.sqliteArguments))
            } catch {
                throw SQLiteDatabase.storeError(error)
            }
            var decoded: [T] = []
            decoded.reserveCapacity(rows.count)
            for row in rows { decoded.append(try decode(SQLRow(row))) }
            return decoded
        case .postgres(let connection, let logger):
            let result = try PostgresDatabase.wait(for: connection, statement, logger)
            var decoded: [T] = []
            decoded.reserveCapacity(result.rows.count)
            for row in result.rows { decoded.append(try decode(SQLRow(row.makeRandomAccess()))) }
            return decoded
        }
    }

    /// The first row of a query, decoded.
    public func fetchOne<T>(_ statement: SQL, _ decode: (SQLRow) throws(StoreError) -> T) throws(StoreError) -> T? {
        switch connection {
        case .sqlite(let db):
            let row: GRDB.Row?
            do {
                let prepared = try db.cachedStatement(sql: statement.sqliteText)
                row = try GRDB.Row.fetchOne(prepared, arguments: SQLiteDatabase.arguments(statement.sqliteArguments))
            } catch {
                throw SQLiteDatabase.storeError(error)
            }
            return try row.map { row throws(StoreError) in try decode(SQLRow(row)) }
        case .postgres(let connection, let logger):
            let result = try PostgresDatabase.wait(for: connection, statement, logger)
            return try result.rows.first.map { row throws(StoreError) in try decode(SQLRow(row.makeRandomAccess())) }
        }
    }

    /// The first column of the first row (`nil` when there is no row).
    public func value<Value: SQLColumnValue>(_ statement: SQL, as type: Value.Type = Value.self) throws(StoreError) -> Value? {
        try fetchOne(statement) { row throws(StoreError) in try row(at: 0, as: Value.self) }
    }

    /// Tells every node listening on `channel` (PostgreSQL `NOTIFY`, delivered when and only if the transaction
    /// commits). Nothing on SQLite: one file has no other nodes, and processes sharing it poll the change sequence.
    public func notify(_ channel: String, _ payload: String) throws(StoreError) {
        guard case .postgres = connection else { return }
        try execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Whether a query returns any row.
    public func exists(_ statement: SQL) throws(StoreError) -> Bool {
        try fetchOne(statement) { _ in true } ?? false
    }
}

extension SQLTransaction {
    /// Statements on a GRDB connection inside one of its transactions.
    init(_ db: GRDB.Database) {
        connection = .sqlite(db)
    }
}
