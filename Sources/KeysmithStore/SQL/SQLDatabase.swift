import Foundation

/// The database Keysmith's stores run on: the embedded SQLite file or a PostgreSQL server. Every store is written
/// once against this type and ``SQLTransaction``; what differs between the two is only here and in the drivers
/// (``SQLiteDatabase``, ``PostgresDatabase``): connections, the transaction runner, placeholders and error mapping.
///
/// Writes are serialised on both: SQLite has one writer, PostgreSQL transactions take one advisory lock first
/// (see ``PostgresDatabase``), so the body of a ``write(_:)`` sees no other writer between its reads and its writes.
///
/// ```swift
/// let balance = try await database.write { tx throws(StoreError) in
///     try tx.value("SELECT available FROM balance WHERE account_uid = \(uid)", as: Int64.self)
/// }
/// ```
public struct SQLDatabase: Sendable {
    enum Backend: Sendable {
        case sqlite(SQLiteDatabase)
        case postgres(PostgresDatabase)
    }

    let backend: Backend

    public init(_ database: SQLiteDatabase) {
        backend = .sqlite(database)
    }

    public init(_ database: PostgresDatabase) {
        backend = .postgres(database)
    }

    /// Runs `body` in a write transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T) async throws(StoreError) -> T {
        switch backend {
        case .sqlite(let database):
            return try await database.write { db in try body(SQLTransaction(connection: .sqlite(db))) }
        case .postgres(let database):
            return try await database.transaction(body)
        }
    }

    /// Runs `body` in a transaction that needs no place in the global write order (bookkeeping such as when a key was
    /// last used: no audit event, no change sequence). On SQLite it is a write like any other; on PostgreSQL it does not
    /// take the write lock, so it never waits behind other nodes' writes.
    public func update<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T) async throws(StoreError) -> T {
        switch backend {
        case .sqlite(let database):
            return try await database.write { db in try body(SQLTransaction(connection: .sqlite(db))) }
        case .postgres(let database):
            return try await database.transaction(locked: false, body)
        }
    }

    /// Runs one statement that needs no place in the global write order, on its own (sessions, delivery bookkeeping);
    /// returns how many rows it changed. On PostgreSQL it runs on any pooled connection without blocking a thread.
    @discardableResult
    public func execute(_ statement: SQL) async throws(StoreError) -> Int {
        switch backend {
        case .sqlite(let database):
            return try await database.write { db in try SQLTransaction(connection: .sqlite(db)).execute(statement) }
        case .postgres(let database):
            return try await database.execute(statement)
        }
    }

    /// Runs `body`'s statements against one consistent view (several reads that must agree).
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T) async throws(StoreError) -> T {
        switch backend {
        case .sqlite(let database):
            return try await database.read { db in try body(SQLTransaction(connection: .sqlite(db))) }
        case .postgres(let database):
            return try await database.snapshot(body)
        }
    }

    /// Every row of one query, decoded.
    public func fetchAll<T: Sendable>(_ statement: SQL, _ decode: @escaping @Sendable (SQLRow) throws(StoreError) -> T)
        async throws(StoreError) -> [T]
    {
        switch backend {
        case .sqlite(let database):
            return try await database.read { db in try SQLTransaction(connection: .sqlite(db)).fetchAll(statement, decode) }
        case .postgres(let database):
            return try await database.fetchAll(statement, decode)
        }
    }

    /// The first row of one query, decoded.
    public func fetchOne<T: Sendable>(_ statement: SQL, _ decode: @escaping @Sendable (SQLRow) throws(StoreError) -> T)
        async throws(StoreError) -> T?
    {
        switch backend {
        case .sqlite(let database):
            return try await database.read { db in try SQLTransaction(connection: .sqlite(db)).fetchOne(statement, decode) }
        case .postgres(let database):
            return try await database.fetchAll(statement, decode).first
        }
    }

    /// The first column of the first row of one query.
    public func value<Value: SQLColumnValue & Sendable>(_ statement: SQL, as type: Value.Type = Value.self) async throws(StoreError)
        -> Value?
    {
        try await fetchOne(statement) { row throws(StoreError) in try row(at: 0, as: Value.self) }
    }

    /// Which database this is, for the few statements that need the name (messages, tests).
    public var isPostgres: Bool {
        if case .postgres = backend { return true }
        return false
    }
}
