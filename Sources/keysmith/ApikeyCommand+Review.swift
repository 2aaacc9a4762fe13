import ArgumentParser
import KeysmithApp
import KeysmithCore
import KeysmithServer

// `keysmith apikey audit|pending|cancel-pending`: reviewing keys and their cooling-down changes.

extension ApikeyCommand {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Least-privilege report: keys with withdraw, unbound trade keys, unused, never used or expiring keys.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let now = installation.clock.milliseconds
                var rows: [AuditFindingJSON] = []
                let accounts = [try await installation.accounts.master()] + (try await installation.accounts.subAccounts())
                for account in accounts {
                    for key in try await installation.keys.keys(of: account) {
                        for finding in LeastPrivilege.findings(for: key, now: now) {
                            rows.append(AuditFindingJSON(
                                apiKey: key.apiKey, subAcct: account.isMaster ? "" : account.name, label: key.label,
                                finding: finding.kind.rawValue, fix: finding.fix))
                        }
                    }
                }
                if options.json {
                    try Output.json(rows)
                } else if rows.isEmpty {
                    Output.line("No findings: every active key is as narrow as it can be.")
                } else {
                    Output.table(
                        ["API KEY", "ACCOUNT", "LABEL", "FINDING", "FIX"],
                        rows.map { [$0.apiKey, $0.subAcct.isEmpty ? "(master)" : $0.subAcct, $0.label, $0.finding, $0.fix] })
                }
            }
        }
    }

    struct Pending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Changes waiting out the cool-down (withdraw added, IPs widened), with when they apply.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let pending = try await installation.keys.allPending().map(PendingJSON.init)
                if options.json { try Output.json(pending); return }
                if pending.isEmpty { Output.line("No pending key changes."); return }
                Output.table(
                    ["API KEY", "NEW PERM", "NEW IP", "REQUESTED", "APPLIES"],
                    pending.map { [$0.apiKey, $0.perm, $0.ip.isEmpty ? "any" : $0.ip, Expiry.format($0.requestedAt), Expiry.format($0.effectiveAt)] })
            }
        }
    }

    struct CancelPending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel-pending", abstract: "Cancel a key's pending change.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The API key.") var apiKey: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.keys.cancelPending(apiKey: apiKey, origin: .cli("apikey.cancel-pending"))
                if options.json { try Output.json(["apiKey": apiKey, "status": "cancelled"]) } else { Output.line("Cancelled the pending change of \(apiKey).") }
            }
        }
    }


}
