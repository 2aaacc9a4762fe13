import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore

struct MaintenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance",
        abstract: "Maintenance windows: listed by GET /api/v5/system/status; trading answers 50001 while one of the trading service runs.",
        subcommands: [Schedule.self, List.self, End.self])

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Schedule a maintenance window.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "What the window is for (shown to clients).") var title: String
        @Option(help: "Start: now, a date (2026-12-31), an OKX timestamp, or a duration from now (30m, 2h).") var begin = "now"
        @Option(help: "End: a date, an OKX timestamp, or a duration from the start (30m, 2h).") var end: String
        @Option(name: .customLong("service-type"), help: "OKX serviceType: 5 trading service (stops trading; default), 0 WebSocket, 99 others…")
        var serviceType = MaintenanceWindow.tradingService

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let now = installation.clock.milliseconds
                let start = begin == "now" ? now : try Expiry.parse(begin, now: now, flag: "--begin")
                let finish = try Expiry.parse(end, now: start, flag: "--end")
                let window = try await installation.maintenance.schedule(
                    title: title, begin: start, end: finish, serviceType: serviceType, origin: .cli("maintenance.schedule"))
                if options.json {
                    try Output.json(WindowJSON(window, now: now))
                } else {
                    Output.line("maintenance window \(window.id) \"\(window.title)\": \(Expiry.format(String(window.begin))) to \(Expiry.format(String(window.end))) UTC (\(window.state(at: now).rawValue))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List maintenance windows, newest first.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let now = installation.clock.milliseconds
                let windows = try await installation.maintenance.windows()
                if options.json {
                    try Output.json(windows.map { WindowJSON($0, now: now) })
                } else if windows.isEmpty {
                    Output.line("No maintenance windows.")
                } else {
                    Output.table(
                        ["ID", "STATE", "BEGIN (UTC)", "END (UTC)", "SERVICE", "TITLE"],
                        windows.map {
                            [String($0.id), $0.state(at: now).rawValue, Expiry.format(String($0.begin)), Expiry.format(String($0.actualEnd)), $0.serviceType, $0.title]
                        })
                }
            }
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End an ongoing window now, or cancel one that has not begun.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The window's id (maintenance list).") var id: Int64

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let now = installation.clock.milliseconds
                let window = try await installation.maintenance.close(id: id, origin: .cli("maintenance.end"))
                if options.json {
                    try Output.json(WindowJSON(window, now: now))
                } else {
                    Output.line("maintenance window \(window.id) \(window.state(at: now).rawValue)")
                }
            }
        }
    }

    /// A window as `--json` prints it (OKX's `system/status` field names).
    struct WindowJSON: Encodable {
        let id: String
        let title: String
        let state: String
        let begin: String
        let end: String
        let serviceType: String

        init(_ window: MaintenanceWindow, now: Int64) {
            id = String(window.id)
            title = window.title
            state = window.state(at: now).rawValue
            begin = String(window.begin)
            end = String(window.actualEnd)
            serviceType = window.serviceType
        }
    }
}
