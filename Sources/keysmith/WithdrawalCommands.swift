import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore

/// `keysmith address`: the withdrawal-address allowlist.
struct AddressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address", abstract: "The withdrawal-address allowlist of the master account.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allow withdrawals of a currency to an address.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Currency.") var ccy: String
        @Option(help: "The address.") var addr: String
        @Option(help: "A note.") var label = ""

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let master = try await installation.accounts.master()
                let added = try await installation.withdrawals.addAddress(
                    addr, label: label, currency: ccy, for: master, origin: .cli("address.add"))
                Output.line("withdrawals of \(added.currency) may now go to \(added.address)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List allowed withdrawal addresses.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let addresses = try await installation.withdrawals.addresses(of: try await installation.accounts.master())
                let rows = addresses.map { [$0.currency, $0.address, $0.label] }
                if options.json {
                    return try Output.json(addresses.map { ["ccy": $0.currency, "addr": $0.address, "label": $0.label] })
                }
                guard !rows.isEmpty else { return Output.line("no withdrawal addresses (add one with `keysmith address add`)") }
                Output.table(["CCY", "ADDRESS", "LABEL"], rows)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop allowing withdrawals to an address.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Currency.") var ccy: String
        @Option(help: "The address.") var addr: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.withdrawals.removeAddress(
                    addr, currency: ccy, for: try await installation.accounts.master(), origin: .cli("address.remove"))
                Output.line("removed \(addr) from the \(ccy.uppercased()) withdrawal addresses")
            }
        }
    }
}

/// `keysmith withdrawal`: the operator's side of withdrawals.
struct WithdrawalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdrawal", abstract: "List, approve and reject withdrawals.", subcommands: [List.self, Approve.self, Reject.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List withdrawals, newest first.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Only those waiting for approval.") var pending = false

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let records = try await installation.withdrawals.withdrawals(of: nil, state: pending ? .pending : nil)
                let scales = (try await installation.ledger.currencies()).scales
                let rows = records.map { record in
                    let scale = scales[record.currency] ?? 8
                    return WithdrawalRow(
                        wdId: String(record.id), state: record.state.name, ccy: record.currency,
                        amt: Amount(units: record.amount, scale: scale).text, fee: Amount(units: record.fee, scale: scale).text,
                        toAddr: record.address, requested: OKXTimestamp.string(fromMilliseconds: record.createdAt))
                }
                if options.json { return try Output.json(rows) }
                guard !rows.isEmpty else { return Output.line("no withdrawals") }
                Output.table(
                    ["WD ID", "STATE", "CCY", "AMOUNT", "FEE", "TO", "REQUESTED"],
                    rows.map { [$0.wdId, $0.state, $0.ccy, $0.amt, $0.fee, $0.toAddr, $0.requested] })
            }
        }

        struct WithdrawalRow: Encodable {
            let wdId, state, ccy, amt, fee, toAddr, requested: String
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a pending withdrawal (its funds leave the exchange).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The withdrawal id (wdId).") var id: Int64

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let done = try await installation.withdrawals.approve(id: id, origin: .cli("withdrawal.approve"))
                Output.line("withdrawal \(done.id) completed (txId \(done.txID))")
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a pending withdrawal (its funds return to the account).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The withdrawal id (wdId).") var id: Int64

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let done = try await installation.withdrawals.reject(id: id, origin: .cli("withdrawal.reject"))
                Output.line("withdrawal \(done.id) rejected; its funds are available again")
            }
        }
    }
}
