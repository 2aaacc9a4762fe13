import Foundation
import GRDB

/// The embedded SQLite database (WAL mode through a GRDB `DatabasePool`), migrated on open.
/// The stores of every subject (keys, ledger, orders, audit, alerts, console) share one instance.
///
/// ```swift
/// let database = try SQLiteDatabase(path: dataDir.appending(path: "keysmith.sqlite").path)
/// let keys = SQLKeyStore(database: SQLDatabase(database))
/// ```
public struct SQLiteDatabase: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database file with mode 0600 from its creation and applies every pending migration.
    public init(path: String) throws(StoreError) {
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            try Self.createPrivately(path)
            self.pool = try DatabasePool(path: path, configuration: configuration)
            self.path = path
            try SQLiteMigrations.migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("cannot open the database at \(path): \(Self.describe(error))")
        }
    }

    /// Creates a missing database file as an empty file with mode 0600, before SQLite opens it (an empty file is a
    /// new database to SQLite), so the database and its -wal and -shm files, which SQLite gives the database's
    /// mode, are private from the start.
    private static func createPrivately(_ path: String) throws(StoreError) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        do {
            try PrivateFile.create(URL(filePath: path), contents: Data())
        } catch {
            guard error.kind == .duplicate else { throw error }
        }
    }

    /// Runs a write transaction, mapping GRDB errors to ``StoreError`` without leaking SQL arguments.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// Names of the applied migrations, in order.
    public func appliedMigrations() throws(StoreError) -> [String] {
        do {
            return try pool.read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// Folds the write-ahead log into the main file (tests and backups).
    public func checkpoint() async throws(StoreError) {
        do {
            _ = try await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// Maps a GRDB error to a ``StoreError``: the balance CHECKs are `.insufficientFunds`, unique and primary-key
    /// violations `.duplicate`, anything else `.database` with SQLite's message (never the statement's arguments).
    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? DatabaseError else { return StoreError.database(describe(error)) }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_CHECK where isOverdraft(error):
            return StoreError.insufficientFunds("a balance would go below zero")
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.duplicate("already exists (\(error.message ?? "unique constraint"))")
        default:
            return StoreError.database(describe(error))
        }
    }

    /// The balance table's CHECK constraints (`available >= 0`, `frozen >= 0`) refused a write.
    static func isOverdraft(_ error: DatabaseError) -> Bool {
        guard error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK, let message = error.message else { return false }
        return message.contains("available >= 0") || message.contains("frozen >= 0")
    }

    /// GRDB's error text without the statement arguments it may carry.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "unknown")"
        }
        return String(describing: type(of: error))
    }

    /// Statement arguments in GRDB's form.
    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValue in
            switch value {
            case .integer(let integer): integer.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let data): data.databaseValue
            case .bool(let bool): bool.databaseValue
            case .null: .null
            }
        })
    }
}
