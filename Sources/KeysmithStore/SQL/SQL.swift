import Foundation

/// One SQL statement and its arguments, written once for both databases.
///
/// Arguments are interpolated, never spliced into the text: each `\(value)` becomes a placeholder (`?` on SQLite,
/// `$n` on PostgreSQL) and a bound value, so no input reaches the SQL text. Fixed fragments (a table name, a column
/// list) go in with `\(unsafe:)`.
///
/// ```swift
/// let sql: SQL = "SELECT * FROM transfer WHERE initiator_uid = \(initiator) AND client_id = \(clientID)"
/// ```
///
/// The statements are portable SQL that both SQLite (3.35+) and PostgreSQL run: `RETURNING`, `ON CONFLICT`, `CAST`.
/// A NULL argument compared with `IS NULL` is cast (`CAST(\(value) AS TEXT) IS NULL`): PostgreSQL cannot otherwise
/// tell its type. Where the two databases truly differ, ``SQL/either(sqlite:postgres:)`` holds both spellings side by
/// side, in the one place the statement is written.
public struct SQL: Sendable, ExpressibleByStringInterpolation {
    /// The text with `?` placeholders (SQLite).
    private(set) var sqliteText: String
    private(set) var sqliteArguments: [SQLValue]
    /// The text with `$1…$n` placeholders (PostgreSQL).
    private(set) var postgresText: String
    private(set) var postgresArguments: [SQLValue]

    public init(stringLiteral value: String) {
        self.init(interpolation: Interpolation(literal: value))
    }

    public init(stringInterpolation: Interpolation) {
        self.init(interpolation: stringInterpolation)
    }

    private init(interpolation: Interpolation) {
        sqliteText = interpolation.sqlite
        postgresText = interpolation.postgres
        sqliteArguments = interpolation.arguments
        postgresArguments = interpolation.arguments
    }

    /// A statement spelt differently on each database (same meaning, same result columns).
    public static func either(sqlite: SQL, postgres: SQL) -> SQL {
        var statement = sqlite
        statement.postgresText = postgres.postgresText
        statement.postgresArguments = postgres.postgresArguments
        return statement
    }

    /// `INSERT INTO table (columns) VALUES (…), (…)`: one row of placeholders per element of `rows` (each of
    /// `columns.count` values), for batches written in one statement.
    public static func insert(into table: String, columns: [String], rows: [[SQLValue]]) -> SQL {
        precondition(rows.allSatisfy { $0.count == columns.count }, "every row needs one value per column")
        return "INSERT INTO \(unsafe: table) (\(unsafe: columns.joined(separator: ", "))) \(values: rows)"
    }

    public struct Interpolation: StringInterpolationProtocol {
        var sqlite = ""
        var postgres = ""
        var arguments: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sqlite.reserveCapacity(literalCapacity + interpolationCount)
            postgres.reserveCapacity(literalCapacity + interpolationCount * 3)
            arguments.reserveCapacity(interpolationCount)
        }

        init(literal: String) {
            sqlite = literal
            postgres = literal
        }

        public mutating func appendLiteral(_ literal: String) {
            sqlite += literal
            postgres += literal
        }

        /// A bound argument.
        public mutating func appendInterpolation(_ value: some SQLBindable) {
            appendInterpolation(value.sqlValue)
        }

        /// A bound argument that may be NULL.
        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            appendInterpolation(value.map(\.sqlValue) ?? .null)
        }

        public mutating func appendInterpolation(_ value: SQLValue) {
            arguments.append(value)
            sqlite += "?"
            postgres += "$\(arguments.count)"
        }

        /// `VALUES (…), (…)`: a row of placeholders per element of `rows` (a batch in one statement; as a table in
        /// `FROM`, its columns are `column1`, `column2`… on both databases).
        public mutating func appendInterpolation(values rows: [[SQLValue]]) {
            appendLiteral("VALUES ")
            for (index, row) in rows.enumerated() {
                appendLiteral(index == 0 ? "(" : ", (")
                for (column, value) in row.enumerated() {
                    if column > 0 { appendLiteral(", ") }
                    appendInterpolation(value)
                }
                appendLiteral(")")
            }
        }

        /// Fixed SQL text (table and column names, never input).
        public mutating func appendInterpolation(unsafe text: String) {
            appendLiteral(text)
        }
    }
}

/// A value bound to a statement.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob(Data)
    case bool(Bool)
    case null
}

/// A Swift value that binds to a statement argument.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable {
    public var sqlValue: SQLValue { .integer(self) }
}

extension Int: SQLBindable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Int32: SQLBindable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension String: SQLBindable {
    public var sqlValue: SQLValue { .text(self) }
}

extension Substring: SQLBindable {
    public var sqlValue: SQLValue { .text(String(self)) }
}

extension Bool: SQLBindable {
    public var sqlValue: SQLValue { .bool(self) }
}

extension Data: SQLBindable {
    public var sqlValue: SQLValue { .blob(self) }
}

extension Array: SQLBindable where Element == UInt8 {
    public var sqlValue: SQLValue { .blob(Data(self)) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
