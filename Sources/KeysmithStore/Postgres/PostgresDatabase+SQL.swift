import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// ``SQLDatabase``'s runner on PostgreSQL.
extension PostgresDatabase {
    /// Runs `body` in a transaction holding ``writeLock``, on one leased connection and on a thread of ``threads``
    /// (the body waits for each statement; no event loop or cooperative thread ever blocks). A serialisation failure
    /// or deadlock is retried (up to three attempts). With `locked` false the transaction skips the write lock (writes
    /// that need no global order).
    func transaction<T: Sendable>(locked: Bool = true, _ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T)
        async throws(StoreError) -> T
    {
        var attempt = 0
        while true {
            attempt += 1
            do throws(StoreError) {
                return try await inTransaction("BEGIN", lock: locked, body)
            } catch {
                guard error.kind == .database, error.detail.hasPrefix(Self.retryableMarker), attempt < 3 else { throw error }
            }
        }
    }

    /// Runs `body`'s reads in one REPEATABLE READ, read-only transaction (one snapshot), without the write lock.
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T) async throws(StoreError) -> T {
        try await inTransaction("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false, body)
    }

    private func inTransaction<T: Sendable>(
        _ begin: SQL, lock: Bool, _ body: @escaping @Sendable (SQLTransaction) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try await onThread(slots: lock ? writeSlots : otherSlots) { connection, logger throws(StoreError) in
            try Self.wait(for: connection, begin, logger)
            do throws(StoreError) {
                // Neither the write lock (another write may hold it for long: a funding settlement of many
                // positions) nor COMMIT (given up, it might still have committed) is bounded.
                if lock { try Self.wait(for: connection, "SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger, bounded: false) }
                let result = try body(SQLTransaction(connection: .postgres(connection, logger)))
                try Self.wait(for: connection, "COMMIT", logger, bounded: false)
                return result
            } catch {
                _ = try? Self.wait(for: connection, "ROLLBACK", logger)
                throw error
            }
        }
    }

    /// One query, on any pooled connection, without blocking a thread.
    func fetchAll<T: Sendable>(_ statement: SQL, _ decode: @escaping @Sendable (SQLRow) throws(StoreError) -> T)
        async throws(StoreError) -> [T]
    {
        let rows: [PostgresRandomAccessRow]
        do {
            rows = try await client.query(statement.postgresQuery, logger: logger).rows()
        } catch {
            throw Self.storeError(error)
        }
        var decoded: [T] = []
        decoded.reserveCapacity(rows.count)
        for row in rows { decoded.append(try decode(SQLRow(row))) }
        return decoded
    }

    /// One statement, autocommitted, on any pooled connection; how many rows it changed.
    func execute(_ statement: SQL) async throws(StoreError) -> Int {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                try await connection.query(statement.postgresQuery, logger: logger).get().metadata.rows ?? 0
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Takes one of `slots`, then leases a connection and runs `body` with it on a thread of ``threads`` (the slots
    /// never add up to more than the threads, so the body starts at once and holds its connection only while it runs).
    private func onThread<T: Sendable>(
        slots: ConcurrencyLimit, _ body: @escaping @Sendable (PostgresConnection, Logger) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let threads = self.threads
        let logger = self.logger
        let client = self.client
        do {
            return try await slots.run { () async throws -> T in
                try await client.withConnection { connection in
                    try await threads.runIfActive { try body(connection, logger) }
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs one statement on `connection` and waits for its result (on a thread of ``threads`` only).
    @discardableResult
    ///
    /// The wait is bounded (``statementWait``) unless `bounded` is false: a statement on a connection that went dead
    /// without failing it (seen once the server restarted under a write) would otherwise hold its thread, and the
    /// node's shutdown, forever. The connection is then closed, so the pool never lends it again, and the
    /// transaction, never committed, is rolled back by the server.
    static func wait(for connection: PostgresConnection, _ statement: SQL, _ logger: Logger, bounded: Bool = true) throws(StoreError)
        -> PostgresQueryResult
    {
        guard bounded else {
            do {
                return try connection.query(statement.postgresQuery, logger: logger).wait()
            } catch {
                throw storeError(error)
            }
        }
        let loop = connection.eventLoop
        let promise = loop.makePromise(of: PostgresQueryResult.self)
        let settled = Mutex(false)
        let complete = { @Sendable (result: Result<PostgresQueryResult, any Error>) in
            guard settled.withLock({ done in defer { done = true }; return !done }) else { return }
            promise.completeWith(result)
        }
        connection.query(statement.postgresQuery, logger: logger).whenComplete(complete)
        let bound = loop.scheduleTask(in: statementWait) {
            complete(.failure(StoreError.database("PostgreSQL did not answer within \(statementWait.nanoseconds / 1_000_000_000) s")))
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
        defer { bound.cancel() }
        do {
            return try promise.futureResult.wait()
        } catch {
            throw storeError(error)
        }
    }

    /// How long one statement of a transaction may take before its connection is given up.
    static let statementWait = TimeAmount.seconds(10)
}

extension SQL {
    /// The statement in postgres-nio's form (`$n` placeholders, typed binds).
    var postgresQuery: PostgresQuery {
        var bindings = PostgresBindings(capacity: postgresArguments.count)
        for argument in postgresArguments {
            switch argument {
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .blob(let value): bindings.append(ByteBuffer(bytes: value))
            case .bool(let value): bindings.append(value)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: postgresText, binds: bindings)
    }
}
