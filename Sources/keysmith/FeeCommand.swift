import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore

/// `keysmith fee`: the trading fee schedule and accounts' fee levels.
struct FeeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fee",
        abstract: "Trading fees: rates per fee level and instrument type, charged on every fill and reported by GET /api/v5/account/trade-fee.",
        discussion: "A serving node applies a change within a second. Rates are charges: -0.001, 0.001 and 0.1% all mean 0.1 %.",
        subcommands: [Set.self, Assign.self, List.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a fee level's maker and taker rates for an instrument type.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The fee level, e.g. Lv1 (every account's level unless assigned another) or VIP1.") var level: String
        @Option(name: .customLong("inst-type"), help: "SPOT, MARGIN, SWAP, FUTURES or OPTION.") var instrumentType = "SPOT"
        @Option(help: "Maker rate, e.g. 0.08% (or -0.0008).") var maker: String
        @Option(help: "Taker rate, e.g. 0.1% (or -0.001).") var taker: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let rates = try await installation.fees.set(
                    level: level, instrumentType: instrumentType, maker: maker, taker: taker, origin: .cli("fee.set"))
                if options.json {
                    try Output.json(RateJSON(level: level, instType: instrumentType.uppercased(), rates: rates))
                } else {
                    Output.line("\(level) \(instrumentType.uppercased()): maker \(rates.maker.text), taker \(rates.taker.text)")
                }
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put an account on a fee level of the schedule.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "master, or a sub-account name.") var account: String
        @Option(help: "The fee level (it must have rates: keysmith fee set).") var level: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let target = try await LedgerCLI.account(account, installation)
                try await installation.fees.assign(level: level, to: target, origin: .cli("fee.assign"))
                if options.json {
                    try Output.json(["account": account, "level": level])
                } else {
                    Output.line("\(account) pays the fees of \(level)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the fee schedule, the accounts off the default level, and the fees collected.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let schedule = try await installation.fees.schedule()
                let rates = schedule.rates.keys.sorted().flatMap { level in
                    (schedule.rates[level] ?? [:]).keys.sorted().compactMap { type in
                        schedule.rates[level]?[type].map { RateJSON(level: level, instType: type, rates: $0) }
                    }
                }
                var names: [String: String] = [:]
                for uid in schedule.levels.keys {
                    names[uid] = (try? await installation.accounts.account(uid: uid))?.name ?? uid
                }
                let assigned = schedule.levels.map { AssignmentJSON(account: names[$0.key] ?? $0.key, level: $0.value) }
                    .sorted { $0.account < $1.account }
                let scales = try await installation.ledger.currencies().scales
                let collected = try await installation.ledger.collectedFees().filter { $0.kind == .trading }.map {
                    CollectedJSON(ccy: $0.currency, amount: Amount(units: $0.available, scale: scales[$0.currency] ?? 8).text)
                }
                if options.json {
                    return try Output.json(ListJSON(rates: rates, accounts: assigned, collected: collected))
                }
                Output.table(["LEVEL", "INST TYPE", "MAKER", "TAKER"], rates.map { [$0.level, $0.instType, $0.maker, $0.taker] })
                Output.line("Every other account is on \(FeeSchedule.defaultLevel).")
                if !assigned.isEmpty {
                    Output.table(["ACCOUNT", "LEVEL"], assigned.map { [$0.account, $0.level] })
                }
                Output.line(
                    collected.isEmpty
                        ? "No fees collected yet." : "Collected: " + collected.map { "\($0.amount) \($0.ccy)" }.joined(separator: ", "))
            }
        }
    }

    struct RateJSON: Encodable {
        let level, instType, maker, taker: String

        init(level: String, instType: String, rates: FeeRates) {
            self.level = level
            self.instType = instType
            maker = rates.maker.text
            taker = rates.taker.text
        }
    }

    struct AssignmentJSON: Encodable {
        let account, level: String
    }

    struct CollectedJSON: Encodable {
        let ccy, amount: String
    }

    struct ListJSON: Encodable {
        let rates: [RateJSON]
        let accounts: [AssignmentJSON]
        let collected: [CollectedJSON]
    }
}
