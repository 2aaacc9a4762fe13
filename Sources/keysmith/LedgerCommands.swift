import ArgumentParser
import Foundation
import KeysmithApp
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
        try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
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
}

/// `keysmith balance`: every balance of an account.
struct Balance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an account's funding (6) and trading (18) balances.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "master, or a sub-account name.") var account = "master"

    func run() async throws {
        try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
            let target = try await LedgerCLI.account(account, installation)
            let scales = (try await installation.ledger.currencies()).scales
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
    }

    private func kindName(_ kind: BalanceKind) -> String { kind == .funding ? "funding (6)" : "trading (18)" }

    struct BalanceRow: Encodable {
        let account, ccy, available, frozen: String
    }
}

/// `keysmith currency list|set`.
struct CurrencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "currency", abstract: "The currencies the ledger holds.", subcommands: [List.self, Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a currency or change one (its decimals cannot change once it has been used).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Currency code, e.g. SOL.") var code: String
        @Option(help: "Full name.") var name: String?
        @Option(help: "Decimal places (0–18).") var decimals: Int = 8
        @Option(help: "Chain, e.g. SOL-Solana (default: CODE-CODE).") var chain: String?
        @Option(help: "Withdrawal fee.") var fee = "0"
        @Option(name: .customLong("min-wd"), help: "Smallest withdrawal.") var minWithdrawal = "0"
        @Option(name: .customLong("max-wd"), help: "Largest withdrawal.") var maxWithdrawal = "1000000"
        @Option(name: .customLong("daily-wd"), help: "Withdrawals allowed per account per UTC day.") var dailyWithdrawal = "1000000"
        @Flag(name: .customLong("no-deposits"), help: "Refuse deposits of it.") var noDeposits = false
        @Flag(name: .customLong("no-withdrawals"), help: "Refuse withdrawals of it.") var noWithdrawals = false

        func run() async throws {
            let code = code.uppercased()
            guard (2...12).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw CLIError("a currency code is 2–12 letters and digits; got '\(code)'")
            }
            guard (0...18).contains(decimals) else { throw CLIError("--decimals is 0 to 18") }
            func amount(_ text: String, _ flag: String) throws -> Amount {
                guard let value = Amount(parsing: text, scale: decimals), value.units >= 0 else {
                    throw CLIError("\(flag) takes a non-negative number with at most \(decimals) decimals; got '\(text)'")
                }
                return value
            }
            let currency = Currency(
                code: code, name: name ?? code, scale: decimals, chain: chain ?? "\(code)-\(code)", withdrawalFee: try amount(fee, "--fee"),
                minimumWithdrawal: try amount(minWithdrawal, "--min-wd"), maximumWithdrawal: try amount(maxWithdrawal, "--max-wd"),
                dailyWithdrawalLimit: try amount(dailyWithdrawal, "--daily-wd"), canDeposit: !noDeposits, canWithdraw: !noWithdrawals)
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.ledger.save(currency)
                Output.line("\(code) saved (\(decimals) decimals, chain \(currency.chain))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List currencies with their chain, decimals and withdrawal rules.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
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
}

/// `keysmith instrument list|set`.
struct InstrumentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instrument", abstract: "The spot pairs and perpetual swaps the exchange lists.", subcommands: [List.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List instruments with their tick, lot and minimum sizes.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let rows = try await installation.ledger.instruments().map {
                    [$0.id, $0.type.rawValue, $0.tickSize.text, $0.lotSize.text, $0.minimumSize.text, $0.contract?.value.text ?? "",
                     $0.contract.map { String($0.maximumLeverage) } ?? ""]
                }
                if options.json {
                    let header = ["instId", "instType", "tickSz", "lotSz", "minSz", "ctVal", "lever"]
                    return try Output.json(rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
                }
                Output.table(["INSTRUMENT", "TYPE", "TICK", "LOT", "MIN SIZE", "CT VAL", "MAX LEVER"], rows)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or change a spot pair such as SOL-USDT, or a linear perpetual such as SOL-USDT-SWAP (the server lists it after a restart).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "BASE-QUOTE (spot) or BASE-QUOTE-SWAP (a perpetual settled in QUOTE), configured currencies.") var id: String
        @Option(name: .customLong("tick"), help: "Price step, e.g. 0.01 (its decimals are the price's).") var tick: String
        @Option(name: .customLong("lot"), help: "Size step, e.g. 0.0001 (its decimals are the size's).") var lot: String
        @Option(name: .customLong("min"), help: "Smallest order size.") var minimum: String
        @Option(name: .customLong("max"), help: "Largest limit order size.") var maximum = "1000000000"
        @Option(name: .customLong("max-market"), help: "Largest market order size (the --max value by default).") var maximumMarket: String?
        @Option(name: .customLong("ct-val"), help: "Perpetuals: the base currency one contract is worth, e.g. 0.01.") var contractValue: String?
        @Option(name: .customLong("lever"), help: "Perpetuals: the highest leverage, from 1 to 125.") var leverage = 100

        func run() async throws {
            var parts = id.uppercased().split(separator: "-").map(String.init)
            let swap = parts.count == 3 && parts[2] == "SWAP"
            if swap { parts.removeLast() }
            guard parts.count == 2 else {
                throw CLIError("an instrument is BASE-QUOTE such as SOL-USDT, or BASE-QUOTE-SWAP; got '\(id)'")
            }
            guard swap == (contractValue != nil) else {
                throw CLIError(swap ? "a perpetual needs --ct-val (what one contract is worth)" : "--ct-val is for perpetuals (BASE-QUOTE-SWAP)")
            }
            guard (1...125).contains(leverage) else { throw CLIError("--lever takes 1 to 125; got \(leverage)") }
            func scale(_ text: String) -> Int { text.split(separator: ".").dropFirst().first?.count ?? 0 }
            func amount(_ text: String, _ scale: Int, _ flag: String) throws -> Amount {
                guard let value = Amount(parsing: text, scale: scale), value.isPositive else {
                    throw CLIError("\(flag) takes a positive number with at most \(scale) decimals; got '\(text)'")
                }
                return value
            }
            let sizeScale = scale(lot)
            var instrument = Instrument(
                id: (parts + (swap ? ["SWAP"] : [])).joined(separator: "-"), base: parts[0], quote: parts[1],
                tickSize: try amount(tick, scale(tick), "--tick"), lotSize: try amount(lot, sizeScale, "--lot"),
                minimumSize: try amount(minimum, sizeScale, "--min"), maximumLimitSize: try amount(maximum, sizeScale, "--max"),
                maximumMarketSize: try amount(maximumMarket ?? maximum, sizeScale, "--max-market"),
                listedAt: Int64(Date().timeIntervalSince1970 * 1000))
            if let contractValue {
                let value = try amount(contractValue, scale(contractValue), "--ct-val")
                instrument = instrument.swap(ContractTerms(value: value, maximumLeverage: leverage))
            }
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.ledger.save(instrument)
                Output.line("\(instrument.id) saved (tick \(instrument.tickSize.text), lot \(instrument.lotSize.text)); restart serve to list it")
            }
        }
    }
}

enum LedgerCLI {
    /// `master` or a sub-account name.
    static func account(_ name: String, _ installation: Installation) async throws -> Account {
        name == "master" ? try await installation.accounts.master() : try await installation.accounts.subAccount(named: name)
    }
}
