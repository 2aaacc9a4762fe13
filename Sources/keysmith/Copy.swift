import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithStore

struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an embedded installation to PostgreSQL: every key, balance and audit event, in one transaction.",
        discussion: """
            The target must be a new, empty database. Afterwards start every node with --database (or KEYSMITH_DATABASE_URL) \
            and the same master key; `keysmith audit verify --database URL` checks the copied chain.
            """)

    @Option(help: "The embedded database: sqlite:PATH, PATH being a data folder or its keysmith.sqlite.")
    var from: String

    @Option(help: "The PostgreSQL database: postgres://user@host:port/db.")
    var to: String

    @Flag(help: "Print machine-readable JSON.")
    var json = false

    func run() async throws {
        let logger = CLILogging.logger(default: .warning)
        guard from.hasPrefix("sqlite:") else { throw CLIError("--from takes sqlite:PATH") }
        var path = String(from.dropFirst("sqlite:".count))
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CLIError("no such file or folder: \(path)") }
        if isFolder.boolValue { path = URL(filePath: path).appending(path: "keysmith.sqlite").path }
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no keysmith.sqlite at \(path)") }
        let source = try SQLiteDatabase(path: path)
        let target = try PostgresDatabase(url: to, logger: logger)
        let report = try await target.whileRunning {
            try await target.migrate()
            return try await DatabaseCopy.copy(from: source, to: target)
        }
        if json {
            try Output.json(report)
        } else {
            let total = report.rows.values.reduce(0, +)
            Output.line("Copied \(total) rows from \(path) to \(target.displayURL):")
            for (table, rows) in report.rows.sorted(by: { $0.key < $1.key }) where rows > 0 {
                Output.line("  \(table.padding(toLength: 20, withPad: " ", startingAt: 0)) \(rows)")
            }
        }
    }
}
