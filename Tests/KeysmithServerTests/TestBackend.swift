import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Logging
import Synchronization

/// Which database the server suites run on: the data folder's SQLite, or — when the test script runs them again
/// with `KEYSMITH_TEST_BACKEND=postgres` — a fresh PostgreSQL database per data folder on the server named by
/// `KEYSMITH_TEST_POSTGRES_URL`. Every suite is the same code on both.
enum TestBackend {
    static let postgresURL: String? = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["KEYSMITH_TEST_BACKEND"] == "postgres" else { return nil }
        return environment["KEYSMITH_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }()

    static var usesPostgres: Bool { postgresURL != nil }

    /// Data folder → its PostgreSQL database, so that a second installation on the same folder (a CLI beside the
    /// server, a restart) opens the same database.
    private static let databases = Mutex<[String: String]>([:])

    private static let quiet: Logger = {
        var logger = Logger(label: "keysmith-test-backend")
        logger.logLevel = .critical
        return logger
    }()

    /// Opens an installation on the data folder with this run's backend.
    static func open(
        dataDirectory: URL, masterKey: MasterKey? = nil, clock: any WallClock = SystemWallClock(),
        cacheRefreshInterval: Duration = .milliseconds(250), role: Installation.Role = .server, logger: Logger
    ) async throws -> Installation {
        var postgres: PostgresDatabase?
        if let url = try await databaseURL(for: dataDirectory) {
            postgres = try await PostgresDatabase.started(url: url, logger: logger, migrate: false)
        }
        return try await Installation.open(
            dataDirectory: dataDirectory, postgres: postgres, masterKey: masterKey, clock: clock,
            cacheRefreshInterval: cacheRefreshInterval, role: role, logger: logger)
    }

    /// Nil on SQLite; on PostgreSQL the folder's database, created on first use.
    static func databaseURL(for folder: URL) async throws -> String? {
        guard let admin = postgresURL else { return nil }
        if let known = databases.withLock({ $0[folder.path] }) { return known }
        let name = "keysmith_server_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let server = try await PostgresDatabase.started(url: admin, logger: quiet, maximumConnections: 1, migrate: false)
        defer { server.close() }
        try await server.execute(unsafeSQL: "CREATE DATABASE \(name)")
        guard var components = URLComponents(string: admin) else { return nil }
        components.path = "/" + name
        let url = components.string ?? admin
        databases.withLock { $0[folder.path] = url }
        return url
    }

    /// Drops the folder's database (after its installations are gone).
    static func dropDatabase(for folder: URL) async {
        guard let admin = postgresURL, let url = databases.withLock({ $0.removeValue(forKey: folder.path) }) else { return }
        let name = String(url.split(separator: "/").last ?? "")
        guard let server = try? await PostgresDatabase.started(url: admin, logger: quiet, maximumConnections: 1, migrate: false) else { return }
        defer { server.close() }
        try? await server.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
