import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import Testing

/// The storage backends every store suite runs against: SQLite always, PostgreSQL when the test script started a
/// server and named it in `KEYSMITH_TEST_POSTGRES_URL` (scripts/test always does).
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let postgresURL = ProcessInfo.processInfo.environment["KEYSMITH_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// One fresh, migrated database of a backend and its stores. A second ``connection()`` to the same database plays a
/// second node (its own pool) or a second process.
struct TestDatabase: Sendable {
    let backend: Backend
    /// The SQLite file, or the PostgreSQL URL of this test's own database.
    let location: String
    let cleanup: @Sendable () -> Void

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let folder = try temporaryFolder()
            return TestDatabase(
                backend: backend, location: folder.appending(path: "keysmith.sqlite").path,
                cleanup: { try? FileManager.default.removeItem(at: folder) })
        case .postgres:
            let admin = try #require(Backend.postgresURL)
            let name = "keysmith_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            let server = try await PostgresDatabase.started(url: admin, logger: quietLogger, maximumConnections: 1, migrate: false)
            try await server.execute(unsafeSQL: "CREATE DATABASE \(name)")
            server.close()
            var components = try #require(URLComponents(string: admin))
            components.path = "/" + name
            return TestDatabase(backend: backend, location: try #require(components.string), cleanup: {})
        }
    }

    /// Opens the database (migrating it) with every store on it.
    func connection() async throws -> TestStores {
        switch backend {
        case .sqlite:
            let database = try SQLiteDatabase(path: location)
            let keys = SQLKeyStore(database: SQLDatabase(database))
            return TestStores(
                keys: keys, apps: keys, events: keys, audit: SQLAuditStore(database: SQLDatabase(database)),
                ledger: SQLLedgerStore(database: SQLDatabase(database)), withdrawals: SQLLedgerStore(database: SQLDatabase(database)),
                console: SQLConsoleStore(database: SQLDatabase(database)), bind: { sealer throws(StoreError) in try await keys.bindMasterKey(sealer) }, close: {})
        case .postgres:
            let database = try await PostgresDatabase.started(url: location, logger: quietLogger, maximumConnections: 8)
            let keys = SQLKeyStore(database: SQLDatabase(database))
            return TestStores(
                keys: keys, apps: keys, events: keys, audit: SQLAuditStore(database: SQLDatabase(database)),
                ledger: SQLLedgerStore(database: SQLDatabase(database)), withdrawals: SQLLedgerStore(database: SQLDatabase(database)),
                console: SQLConsoleStore(database: SQLDatabase(database)), bind: { sealer throws(StoreError) in try await keys.bindMasterKey(sealer) },
                close: { database.close() })
        }
    }
}

struct TestStores: Sendable {
    let keys: any KeyStore
    let apps: any AppStore
    let events: any KeyEventStore
    let audit: any AuditStore
    let ledger: any LedgerStore
    let withdrawals: any WithdrawalStore
    let console: any ConsoleStore
    let bind: @Sendable (SecretSealer) async throws(StoreError) -> Void
    let close: @Sendable () -> Void
}

let quietLogger: Logger = {
    var logger = Logger(label: "keysmith-store-tests")
    logger.logLevel = .critical
    return logger
}()

/// A fresh database of `backend` with a master account, for one test.
func withStores(_ backend: Backend, _ body: (TestStores, Account) async throws -> Void) async throws {
    let database = try await TestDatabase.make(backend)
    defer { database.cleanup() }
    let stores = try await database.connection()
    defer { stores.close() }
    let master = account(name: "master", parent: nil)
    try await stores.keys.insert(account: master, audit: audit())
    try await body(stores, master)
}

/// Two connections (pools) to one fresh database — two nodes, or two processes — and its master account.
func withTwoNodes(_ backend: Backend, _ body: (TestStores, TestStores, Account) async throws -> Void) async throws {
    let database = try await TestDatabase.make(backend)
    defer { database.cleanup() }
    let nodeA = try await database.connection(), nodeB = try await database.connection()
    defer {
        nodeA.close()
        nodeB.close()
    }
    let master = account(name: "master", parent: nil)
    try await nodeA.keys.insert(account: master, audit: audit())
    try await body(nodeA, nodeB, master)
}

/// Checks that `events` form an unbroken chain from `anchor`.
func expectUnbrokenChain(_ events: [AuditEvent], from anchor: AuditChain.Head) {
    var head = anchor
    for event in events {
        #expect(event.sequence == head.sequence + 1)
        #expect(event.previousHash == head.hash)
        #expect(event.hash == AuditChain.hash(of: event.record, after: head.hash))
        head = AuditChain.Head(sequence: event.sequence, hash: event.hash)
    }
}
