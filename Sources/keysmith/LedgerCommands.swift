import ArgumentParser
import Foundation
import KeysmithCore
import KeysmithServer
import KeysmithStore

/// `keysmith deposit`: simulated deposits, credited at once to the account's funding balance.
struct Deposit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Credit a simulated deposit to an account's funding balance.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "master, or a sub-account name.") var account: String
    @Option(help: "Currency (USDT, BTC, ETH, OKB or another configured one).") var ccy: String
    @Option(help: "Amount, e.g. 1000 or 0.5.") var amt: String

    func run() async throws {
        let installation = try await options.openInstallation(logger: CLILogging.logger(default: .warning))
        let target = try await LedgerCLI.account(account, installation)
        let deposit = try await installation.ledger.deposit(to: target, currency: ccy, amount: amt, origin: .cli("deposit"))
        let amount = Amount(units: deposit.amount, scale: try await installation.ledger.currency(deposit.currency).scale).text
        if options.json {
            try Output.json(["depId": String(deposit.id), "ccy": deposit.currency, "amt": amount, "account": account, "to": "6"])
        } else {
            Output.line("Deposited \(amount) \(deposit.currency) into the funding account of \(account) (deposit \(deposit.id)).")
        }
    }
}

/// `keysmith balance`: every balance of an account.
struct Balance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an account's funding (6) and trading (18) balances.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "master, or a sub-account name.") var account = "master"

    func run() async throws {
        let installation = try await options.openInstallation(logger: CLILogging.logger(default: .warning))
        let target = try await LedgerCLI.account(account, installation)
        let scales = Dictionary(try await installation.ledger.currencies().map { ($0.code, $0.scale) }, uniquingKeysWith: { a, _ in a })
        let rows = try await installation.ledger.balances(of: target).map { balance in
            let scale = scales[balance.currency] ?? 8
            return BalanceRow(
                account: kindName(balance.kind), ccy: balance.currency, available: Amount(units: balance.available, scale: scale).text,
                frozen: Amount(units: balance.frozen, scale: scale).text)
        }
        if options.json { return try Output.json(rows) }
        guard !rows.isEmpty else { return Output.line("\(account) holds nothing yet (see `keysmith deposit`)") }
        Output.table(["ACCOUNT", "CCY", "AVAILABLE", "FROZEN"], rows.map { [$0.account, $0.ccy, $0.available, $0.frozen] })
    }

    private func kindName(_ kind: BalanceKind) -> String { kind == .funding ? "funding (6)" : "trading (18)" }

    struct BalanceRow: Encodable {
        let account, ccy, available, frozen: String
    }
}

/// `keysmith currency list`.
struct CurrencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "currency", abstract: "The currencies the ledger holds.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List currencies with their chain, decimals and withdrawal rules.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let installation = try await options.openInstallation(logger: CLILogging.logger(default: .warning))
            let currencies = try await installation.ledger.currencies()
            let rows = currencies.map {
                [$0.code, $0.chain, String($0.scale), $0.withdrawalFee.text, $0.minimumWithdrawal.text, $0.maximumWithdrawal.text,
                 $0.dailyWithdrawalLimit.text]
            }
            if options.json {
                let header = ["ccy", "chain", "decimals", "fee", "minWd", "maxWd", "dailyWd"]
                return try Output.json(rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
            }
            Output.table(["CCY", "CHAIN", "DECIMALS", "FEE", "MIN WD", "MAX WD", "DAILY WD"], rows)
        }
    }
}

enum LedgerCLI {
    /// `master` or a sub-account name.
    static func account(_ name: String, _ installation: Installation) async throws -> Account {
        name == "master" ? try await installation.accounts.master() : try await installation.accounts.subAccount(named: name)
    }
}
