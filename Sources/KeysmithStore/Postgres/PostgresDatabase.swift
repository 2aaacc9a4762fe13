import Foundation
import Logging
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A PostgreSQL database shared by any number of Keysmith nodes (the scale-out backend), reached through a
/// postgres-nio `PostgresClient` connection pool. The pool works while ``run()`` runs: a serving node runs it as the
/// first service of its service group (so it stops last), a command for the duration of ``whileRunning(_:)``.
///
/// **Writes are serialised.** Every write transaction first takes one transaction-scoped advisory lock
/// (``writeLock``). That gives PostgreSQL the embedded database's single-writer semantics across all nodes:
/// - the audit chain has one order: each transaction reads the head and appends after it, and no other writer can
///   append in between;
/// - change sequences (`api_key.change_seq`) are handed out in commit order, so a node that read every change up
///   to sequence N can never later see a smaller sequence commit (which a plain `SEQUENCE` would allow);
/// - balance updates, limit checks and idempotency checks read and write under the same lock; CHECK constraints
///   and unique indexes enforce the ledger invariants on top, whatever the code does.
///
/// Reads take no lock and see committed data (READ COMMITTED). Writes are short (a handful of statements on one
/// connection); the request audit trail is written in batches per node, so the lock is taken once per batch.
///
/// ```swift
/// let database = try PostgresDatabase(url: "postgres://keysmith@db.internal:5432/keysmith", logger: logger)
/// try await database.whileRunning {
///     try await database.migrate()
///     print(try await database.appliedMigrations())
/// }
/// ```
public final class PostgresDatabase: Service, Sendable {
    /// Key of the advisory lock every write transaction holds until it commits.
    static let writeLock: Int64 = 0x6b65_7973_6d69_7468  // "keysmith"
    /// Key of the advisory lock that migrations hold.
    static let migrationLock: Int64 = 0x6b65_7973_6d69_6772  // "keysmigr"

    public let client: PostgresClient
    /// The URL without its password, for messages.
    public let displayURL: String
    let logger: Logger
    /// The threads that run transactions written against ``SQLTransaction`` (each waits for its statements).
    let threads: NIOThreadPool
    /// Transactions that take the write lock: they run one at a time across all nodes anyway, so a few threads
    /// suffice, and writes queued on the lock never take the threads that reads and bookkeeping need.
    let writeSlots = ConcurrencyLimit(PostgresDatabase.writeThreads)
    /// Snapshot reads and updates outside the write lock.
    let otherSlots = ConcurrencyLimit(PostgresDatabase.transactionThreads - PostgresDatabase.writeThreads)
    /// The pool's run, when it was started with ``started(url:logger:maximumConnections:migrate:)``.
    private let detached = Mutex<Task<Void, Never>?>(nil)
    /// Whether ``run()`` has started, and who waits for it to.
    private let running = Mutex<(claimed: Bool, started: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, false, []))

    /// A pool for the database at `url` (`postgres://user[:password]@host[:port]/db[?sslmode=require]`). Nothing
    /// connects until ``run()`` runs and a query asks for a connection.
    public init(url: String, logger: Logger, maximumConnections: Int = 20) throws(StoreError) {
        let parsed = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password, database: parsed.database,
            tls: .disable)
        if parsed.requireTLS {
            configuration.tls = .require(.makeClientConfiguration())
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        var clientLogger = logger
        clientLogger[metadataKey: "component"] = "postgres"
        self.client = PostgresClient(configuration: configuration, backgroundLogger: clientLogger)
        self.displayURL = parsed.display
        self.logger = clientLogger
        self.threads = NIOThreadPool(numberOfThreads: Self.transactionThreads)
        self.threads.start()
    }

    /// How many transactions of one node run at once, and how many of them may be waiting on or holding the write lock.
    static let transactionThreads = 8
    static let writeThreads = 2

    deinit {
        close()
        threads.shutdownGracefully { _ in }
    }

    /// Runs the connection pool until the task is cancelled or the service group shuts down gracefully; queries
    /// made afterwards fail. Call it once.
    public func run() async {
        let client = self.client
        await withDiscardingTaskGroup { group in
            // The pool runs once (postgres-nio traps on a second run): a second call returns at once.
            let first = running.withLock { state in
                defer { state.claimed = true }
                return !state.claimed
            }
            guard first else {
                logger.warning("PostgresDatabase.run() called while the pool already runs")
                return
            }
            // Immediate: the pool has started (postgres-nio marks it so before its first suspension) when the
            // waiters of ``untilRunning()`` resume and ask it for connections.
            group.addImmediateTask { await client.run() }
            markStarted()
        }
    }

    /// Records that the pool runs and resumes whoever waits for it.
    private func markStarted() {
        let waiting = running.withLock { state in
            state.started = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns once ``run()`` has started (a service beside it in the service group waits for this before its
    /// first query).
    public func untilRunning() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let now = running.withLock { state in
                if !state.started { state.waiting.append(waiter) }
                return state.started
            }
            if now { waiter.resume() }
        }
    }

    /// Runs the pool for the duration of `body`, then stops it (a command's lifetime, structured: the pool's task
    /// is a child of the caller's).
    public func whileRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            await untilRunning()
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// A pool already running (and, unless `migrate` is false, migrated), for callers with no scope to run it in:
    /// tests and tools that keep a database across many calls. ``close()`` stops it. A serving node or a command
    /// uses ``run()`` or ``whileRunning(_:)`` instead.
    package static func started(
        url: String, logger: Logger, maximumConnections: Int = 20, migrate: Bool = true
    ) async throws(StoreError) -> PostgresDatabase {
        let database = try PostgresDatabase(url: url, logger: logger, maximumConnections: maximumConnections)
        let client = database.client  // the task holds the client, not the database, so dropping the database stops it
        database.running.withLock { $0.claimed = true }
        database.detached.withLock { $0 = Task.immediate { await client.run() } }
        database.markStarted()
        if migrate {
            do {
                try await database.migrate()
            } catch {
                database.close()
                throw error
            }
        }
        return database
    }

    /// Stops a pool that ``started(url:logger:maximumConnections:migrate:)`` started (dropping the last reference
    /// to it does too).
    package func close() {
        detached.withLock { $0?.cancel() }
    }

    /// Applies every migration not yet recorded in `schema_migration`, in one transaction.
    public func migrate() async throws(StoreError) {
        try await run("migrate") { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    logger: logger)
                var applied = Set<String>()
                for try await name in try await connection.query("SELECT name FROM schema_migration", logger: logger).decode(String.self) {
                    applied.insert(name)
                }
                for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    if migration.name == PostgresMigrations.all[0].name {
                        try await PostgresMigrations.seed(on: connection, logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migration (name) VALUES (\(migration.name))", logger: logger)
                }
            }
        }
    }

    /// Names of the applied migrations, oldest first.
    public func appliedMigrations() async throws(StoreError) -> [String] {
        try await read { connection, logger in
            try await connection.query("SELECT name FROM schema_migration ORDER BY applied_at, name", logger: logger).collect(String.self)
        }
    }

    /// Runs `body` in a transaction holding ``writeLock``. A serialisation failure or deadlock is retried (up to
    /// three attempts); errors become ``StoreError`` without SQL arguments.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (PostgresConnection, Logger) async throws -> T) async throws(StoreError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do throws(StoreError) {
                return try await run("write") { client, logger in
                    try await client.withTransaction(logger: logger) { connection in
                        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger: logger)
                        return try await body(connection, logger)
                    }
                }
            } catch {
                guard error.kind == .database, error.detail.hasPrefix(Self.retryableMarker), attempt < 3 else { throw error }
            }
        }
    }

    /// Runs `body` on a pooled connection, outside any transaction.
    @discardableResult
    func read<T: Sendable>(_ body: @Sendable (PostgresConnection, Logger) async throws -> T) async throws(StoreError) -> T {
        try await run("read") { client, logger in
            try await client.withConnection { connection in try await body(connection, logger) }
        }
    }

    /// Runs one statement as written, outside a transaction (administration such as `CREATE DATABASE`); never
    /// give it user input.
    public func execute(unsafeSQL sql: String) async throws(StoreError) {
        try await run("execute") { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// Whether the server answers a trivial query within `timeout` (readiness checks).
    public func isReachable(timeout: Duration = .seconds(1)) async -> Bool {
        let client = self.client
        let logger = self.logger
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await client.query("SELECT 1", logger: logger)
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    static let retryableMarker = "PostgreSQL 40"

    @discardableResult
    private func run<T: Sendable>(
        _ what: String, _ body: (PostgresClient, Logger) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await body(client, logger)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Maps a postgres-nio error to a ``StoreError``: unique violations are `.duplicate`, the balance CHECKs are
    /// `.insufficientFunds`, numbers out of range (a bigint sum that overflows) `.outOfRange`, anything else
    /// `.database` with the server's message (never the query's arguments).
    static func storeError(_ error: any Error) -> StoreError {
        var error = error
        if let transaction = error as? PostgresTransactionError {
            error = transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? transaction.rollbackError ?? error
        }
        if let error = error as? StoreError { return error }
        guard let error = error as? PSQLError else {
            return StoreError.database("PostgreSQL: \(String(describing: type(of: error)))")
        }
        guard let info = error.serverInfo, let state = info[.sqlState] else {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
                return StoreError.database("PostgreSQL is unreachable")
            default:
                return StoreError.database("PostgreSQL client error: \(error.code)")
            }
        }
        let message = info[.message] ?? "unknown"
        let constraint = info[.constraintName] ?? ""
        switch state {
        case "23505":
            return StoreError.duplicate("already exists (\(constraint.isEmpty ? message : constraint))")
        case "23514" where constraint.hasPrefix("balance_"):
            return StoreError.insufficientFunds("a balance would go below zero")
        case "22003":
            return StoreError.outOfRange("a balance or total would exceed the largest amount the ledger holds")
        default:
            return StoreError.database("PostgreSQL \(state): \(message)")
        }
    }
}

/// A `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]` URL.
struct PostgresURL: Sendable {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var requireTLS: Bool

    init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw StoreError.database("not a PostgreSQL URL (expected postgres://user@host:port/database)")
        }
        // The port goes on to a 16-bit socket field, which traps on anything wider.
        guard (1...65535).contains(components.port ?? 5432) else { throw StoreError.database("a PostgreSQL port is 1 to 65535") }
        self.host = host
        self.port = components.port ?? 5432
        self.user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? user : path
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        switch mode {
        case "disable", "prefer", "allow": requireTLS = false
        case "require", "verify-ca", "verify-full": requireTLS = true
        default: throw StoreError.database("unknown sslmode \(mode) (disable or require)")
        }
    }

    /// The URL with the password left out.
    var display: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

extension PostgresRowSequence {
    /// Every row's single column, decoded.
    func collect<T: PostgresDecodable & Sendable>(_ type: T.Type) async throws -> [T] {
        var values: [T] = []
        for try await value in decode(T.self) { values.append(value) }
        return values
    }

    /// Every row, for reading by column name.
    func rows() async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in self { rows.append(row.makeRandomAccess()) }
        return rows
    }
}

extension PostgresRandomAccessRow {
    /// The named column, decoded.
    func callAsFunction<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }
}
