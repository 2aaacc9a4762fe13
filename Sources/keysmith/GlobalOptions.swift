import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Logging

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data folder (database, master key).")
    var dataDirectory: String = "./keysmith-data"

    @Option(
        name: .customLong("database"),
        help: "A PostgreSQL URL (postgres://user@host:port/db) for a multi-node installation; default: the data folder's SQLite database. Also KEYSMITH_DATABASE_URL.")
    var databaseURL: String?

    @Flag(help: "Print machine-readable JSON.")
    var json = false

    /// `--database`, else `KEYSMITH_DATABASE_URL`, else nil (SQLite).
    var effectiveDatabaseURL: String? {
        databaseURL ?? ProcessInfo.processInfo.environment["KEYSMITH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs `body` with the data folder opened; the master key comes from KEYSMITH_MASTER_KEY or the folder's key
    /// file, and the cool-down for widening key changes from KEYSMITH_COOLDOWN (a duration such as 24h, 30m or 0m;
    /// default 24h). On PostgreSQL the connection pool runs for the duration of `body`. A command's key changes do
    /// not load the key cache (`Installation.Role.command`).
    func withInstallation<T: Sendable>(logger: Logger, _ body: (Installation) async throws -> T) async throws -> T {
        guard let postgres = try postgresDatabase(logger: logger) else {
            return try await body(openInstallation(postgres: nil, logger: logger, role: .command))
        }
        return try await postgres.whileRunning {
            try await body(openInstallation(postgres: postgres, logger: logger, role: .command))
        }
    }

    /// The PostgreSQL database `--database` / KEYSMITH_DATABASE_URL names, not yet running; nil on SQLite.
    func postgresDatabase(logger: Logger) throws -> PostgresDatabase? {
        try effectiveDatabaseURL.map { url throws(StoreError) in try PostgresDatabase(url: url, logger: logger) }
    }

    /// Opens the data folder over `postgres` (running) or the folder's SQLite database.
    func openInstallation(
        postgres: PostgresDatabase?, logger: Logger, cacheRefreshInterval: Duration = .milliseconds(250), role: Installation.Role
    ) async throws -> Installation {
        let environment = ProcessInfo.processInfo.environment
        let masterKey = try environment["KEYSMITH_MASTER_KEY"].map { try MasterKey(text: $0) }
        let cooldown = try environment["KEYSMITH_COOLDOWN"].map {
            try Expiry.parse($0, now: 0, allowZero: true, flag: "KEYSMITH_COOLDOWN")
        } ?? KeyService.defaultCooldown
        return try await Installation.open(
            dataDirectory: URL(filePath: dataDirectory), postgres: postgres, masterKey: masterKey, cacheRefreshInterval: cacheRefreshInterval,
            cooldown: cooldown, role: role, logger: logger)
    }
}

enum CLILogging {
    /// Logs go to stderr (never stdout, which carries command output), at `KEYSMITH_LOG_LEVEL` or `level`.
    static func logger(default level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["KEYSMITH_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? level
            return handler
        }
        return Logger(label: "keysmith")
    }
}

enum Output {
    /// Writes one JSON document to stdout with sorted keys.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func line(_ text: String) {
        // Unbuffered, so output appears at once even when stdout is a pipe.
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// A left-aligned text table.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            line(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}

/// A runtime failure: ArgumentParser prints it as one `Error: …` line and exits non-zero, without usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension AuditOrigin {
    /// A CLI action, attributed to the operating-system user who ran it (`cli:alice`).
    static func cli(_ action: String) -> AuditOrigin {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? String(getuid())
        return AuditOrigin(actor: "cli:\(user)", action: action)
    }
}
