import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithServer
import KeysmithStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (SQLite data folder, or the PostgreSQL database of --database) and list them.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let logger = CLILogging.logger(default: .warning)
        let applied: [String]
        let location: String
        if let url = options.effectiveDatabaseURL {
            let database = try PostgresDatabase(url: url, logger: logger)
            applied = try await database.whileRunning {
                try await database.migrate()
                return try await database.appliedMigrations()
            }
            location = database.displayURL
        } else {
            let folder = URL(filePath: options.dataDirectory)
            try PrivateFile.makeFolder(folder)
            let database = try SQLiteDatabase(path: folder.appending(path: "keysmith.sqlite").path)
            applied = try database.appliedMigrations()
            location = database.path
        }
        if options.json {
            try Output.json(MigrationReport(database: location, migrations: applied))
        } else {
            Output.line("\(location): \(applied.count) migrations applied, the latest \(applied.last ?? "none")")
        }
    }

    struct MigrationReport: Encodable {
        let database: String
        let migrations: [String]
    }
}
