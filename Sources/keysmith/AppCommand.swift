import ArgumentParser
import KeysmithApp
import KeysmithCore
import KeysmithServer

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "The registry of third-party apps keys can be linked to.",
        subcommands: [Add.self, List.self, Update.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an app and the addresses it calls from.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "App name (letters, digits, '-', '_', '.').") var name: String
        @Option(name: .customLong("ip"), help: "Address or CIDR the app calls from (repeatable).") var addresses: [String] = []
        @Option(help: "The app's web address.") var url: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let app = try await installation.apps.add(name: name, allowlist: try IPAllowlist(parsing: addresses), url: url, origin: .cli("app.add"))
                if options.json { try Output.json(AppJSON(app)) } else { Output.line("Registered app \(app.name) (IPs \(app.allowlist.okxString)).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered apps.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let apps = try await installation.apps.apps()
                if options.json { try Output.json(apps.map(AppJSON.init)); return }
                Output.table(["APP", "IP", "URL"], apps.map { [$0.name, $0.allowlist.okxString, $0.url ?? ""] })
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an app's addresses; every active key linked to it is re-bound in the same step.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "App name.") var name: String
        @Option(name: .customLong("ip"), help: "New address or CIDR (repeatable; replaces the list).") var addresses: [String] = []
        @Option(help: "New web address.") var url: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let allowlist = addresses.isEmpty ? nil : try IPAllowlist(parsing: addresses)
                let (app, rebound) = try await installation.apps.update(name: name, allowlist: allowlist, url: url, origin: .cli("app.update"))
                if options.json {
                    try Output.json(AppUpdateJSON(app: AppJSON(app), reboundKeys: rebound))
                } else {
                    Output.line("App \(app.name) now calls from \(app.allowlist.okxString); re-bound \(rebound.count) linked key(s).")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an app that no active key is linked to.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "App name.") var name: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.apps.remove(name: name, origin: .cli("app.remove"))
                if options.json { try Output.json(["app": name, "status": "removed"]) } else { Output.line("Removed app \(name).") }
            }
        }
    }
}

struct AppJSON: Encodable {
    let app: String
    let ip: String
    let url: String
    let ts: String

    init(_ app: App) {
        self.app = app.name
        ip = app.allowlist.okxString
        url = app.url ?? ""
        ts = String(app.createdAt)
    }
}

struct AppUpdateJSON: Encodable {
    let app: AppJSON
    let reboundKeys: [String]
}
