import ArgumentParser
import KeysmithApp
import KeysmithCore
import KeysmithServer

struct SubaccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subaccount", abstract: "Create, list, freeze and unfreeze sub-accounts.",
        subcommands: [Create.self, List.self, Freeze.self, Unfreeze.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a sub-account (6–20 letters and digits).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Sub-account name.") var name: String
        @Option(name: .customLong("acct-lv"), help: "Account level: 1 spot, 2 spot and futures.") var level = "2"
        @Option(name: .customLong("pos-mode"), help: "Position mode: net_mode (one-way) or long_short_mode.") var positionMode = "net_mode"
        @Flag(name: .customLong("no-deposits"), help: "Refuse deposits into this sub-account.") var noDeposits = false
        @Flag(name: .customLong("can-transfer-out"), help: "Let its own keys send funds to sibling sub-accounts.")
        var canTransferOut = false
        @Option(help: "A note for the sub-account.") var label = ""

        func run() async throws {
            guard let level = AccountLevel(rawValue: level), level == .spot || level == .spotAndFutures else {
                throw ValidationError("--acct-lv must be 1 (spot) or 2 (spot and futures)")
            }
            guard let mode = PositionMode(rawValue: positionMode) else {
                throw ValidationError("--pos-mode must be net_mode or long_short_mode")
            }
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let account = try await installation.accounts.createSubAccount(
                    SubAccountRequest(
                        name: name, label: label, level: level, positionMode: mode, depositsAllowed: !noDeposits,
                        canTransferOut: canTransferOut), origin: .cli("subaccount.create"))
                if options.json {
                    try Output.json(SubAccountItem(account))
                } else {
                    Output.line("Created sub-account \(account.name) (uid \(account.uid)).")
                }
            }
        }
    }

    struct Freeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze a sub-account: every request signed with one of its keys answers 50100 until it is unfrozen.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Sub-account name.") var name: String

        func run() async throws {
            try await SubaccountCommand.setFrozen(name, true, options: options)
        }
    }

    struct Unfreeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unfreeze a sub-account: its keys work again.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Sub-account name.") var name: String

        func run() async throws {
            try await SubaccountCommand.setFrozen(name, false, options: options)
        }
    }

    static func setFrozen(_ name: String, _ frozen: Bool, options: GlobalOptions) async throws {
        try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
            let account = try await installation.accounts.setFrozen(name, frozen, origin: .cli(frozen ? "subaccount.freeze" : "subaccount.unfreeze"))
            if options.json {
                try Output.json(SubAccountItem(account))
            } else {
                Output.line("Sub-account \(account.name) is \(frozen ? "frozen: its keys are refused with 50100" : "enabled again").")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sub-accounts.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let accounts = try await installation.accounts.subAccounts()
                if options.json {
                    try Output.json(accounts.map(SubAccountItem.init))
                    return
                }
                Output.table(
                    ["NAME", "UID", "ACCT-LV", "POS-MODE", "DEPOSITS", "STATE", "LABEL"],
                    accounts.map {
                        [$0.name, $0.uid, $0.level.rawValue, $0.positionMode.rawValue, $0.depositsAllowed ? "yes" : "no",
                         $0.frozen ? "frozen" : "enabled", $0.label]
                    })
            }
        }
    }
}
