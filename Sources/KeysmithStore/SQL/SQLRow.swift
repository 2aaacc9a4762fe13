import Foundation
import GRDB
import PostgresNIO

/// One result row of either database, read by column name (or position) into Swift values:
///
/// ```swift
/// let id: Int64 = try row("id")
/// let label = try row("label", as: String.self)
/// ```
///
/// A NULL or a value of the wrong type is a ``StoreError`` (`.database`), not a crash; an optional type reads NULL as
/// `nil`.
public struct SQLRow {
    enum Storage {
        case sqlite(GRDB.Row)
        case postgres(PostgresRandomAccessRow)
    }

    let storage: Storage

    init(_ row: GRDB.Row) {
        storage = .sqlite(row)
    }

    init(_ row: PostgresRandomAccessRow) {
        storage = .postgres(row)
    }

    /// The named column.
    public func callAsFunction<Value: SQLColumnValue>(_ column: String, as type: Value.Type = Value.self) throws(StoreError) -> Value {
        switch storage {
        case .sqlite(let row):
            guard row.hasColumn(column) else { throw StoreError.database("no column \(column)") }
            return try Value.read(sqlite: row[column] as DatabaseValue, column: column)
        case .postgres(let row):
            guard row.contains(column) else { throw StoreError.database("no column \(column)") }
            return try Value.read(postgres: row[column], column: column)
        }
    }

    /// The column at `index` (0 is the first).
    public func callAsFunction<Value: SQLColumnValue>(at index: Int, as type: Value.Type = Value.self) throws(StoreError) -> Value {
        switch storage {
        case .sqlite(let row):
            guard index < row.count else { throw StoreError.database("no column \(index)") }
            return try Value.read(sqlite: row[index] as DatabaseValue, column: String(index))
        case .postgres(let row):
            guard index < row.count else { throw StoreError.database("no column \(index)") }
            return try Value.read(postgres: row[index], column: String(index))
        }
    }
}

/// A Swift type a column reads into, from either database.
public protocol SQLColumnValue {
    static func read(sqlite value: DatabaseValue, column: String) throws(StoreError) -> Self
    static func read(postgres cell: PostgresCell, column: String) throws(StoreError) -> Self
}

extension SQLColumnValue where Self: DatabaseValueConvertible & PostgresDecodable {
    public static func read(sqlite value: DatabaseValue, column: String) throws(StoreError) -> Self {
        guard let decoded = Self.fromDatabaseValue(value) else { throw unreadable(column, as: Self.self) }
        return decoded
    }

    public static func read(postgres cell: PostgresCell, column: String) throws(StoreError) -> Self {
        do {
            return try cell.decode(Self.self)
        } catch {
            throw unreadable(column, as: Self.self)
        }
    }
}

private func unreadable<T>(_ column: String, as type: T.Type = T.self) -> StoreError {
    StoreError.database("column \(column) is not a \(T.self)")
}

extension Int64: SQLColumnValue {}
extension String: SQLColumnValue {}
extension Bool: SQLColumnValue {}

extension Int: SQLColumnValue {
    public static func read(sqlite value: DatabaseValue, column: String) throws(StoreError) -> Int {
        Int(try Int64.read(sqlite: value, column: column))
    }

    public static func read(postgres cell: PostgresCell, column: String) throws(StoreError) -> Int {
        Int(try Int64.read(postgres: cell, column: column))
    }
}

extension Data: SQLColumnValue {
    public static func read(sqlite value: DatabaseValue, column: String) throws(StoreError) -> Data {
        guard let data = Data.fromDatabaseValue(value) else { throw unreadable(column, as: Data.self) }
        return data
    }

    public static func read(postgres cell: PostgresCell, column: String) throws(StoreError) -> Data {
        do {
            let buffer = try cell.decode(ByteBuffer.self)
            return Data(buffer.readableBytesView)
        } catch {
            throw unreadable(column, as: Data.self)
        }
    }
}

extension Optional: SQLColumnValue where Wrapped: SQLColumnValue {
    public static func read(sqlite value: DatabaseValue, column: String) throws(StoreError) -> Wrapped? {
        value.isNull ? nil : try Wrapped.read(sqlite: value, column: column)
    }

    public static func read(postgres cell: PostgresCell, column: String) throws(StoreError) -> Wrapped? {
        cell.bytes == nil ? nil : try Wrapped.read(postgres: cell, column: column)
    }
}
