import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// `keysmith funding settle|rates|history`: funding of the perpetual swaps.
struct FundingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funding",
        abstract: "Funding of the perpetual swaps: settled every funding interval by the server (KEYSMITH_FUNDING_INTERVAL, 8 h), or now.",
        subcommands: [Settle.self, Rates.self, History.self])

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle funding now at the current rate and mark: the running server settles it within a second (positions live in it).")
        @OptionGroup var options: GlobalOptions
        @Option(name: .customLong("inst"), help: "A SWAP instrument (repeatable); every perpetual by default.") var instruments: [String] = []
        @Option(help: "Seconds to wait for the server to settle.") var wait: Int = 15

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                var swaps: [Instrument] = []
                for id in instruments { swaps.append(try await MarkCommand.swap(id, in: installation)) }
                if swaps.isEmpty { swaps = try await installation.ledger.instruments().filter { $0.type == .swap } }
                guard swaps.allSatisfy({ $0.type == .swap }) else { throw CLIError("funding settles SWAP instruments only") }
                let store = installation.orders, now = installation.clock.milliseconds
                var requests: [(Instrument, Int64)] = []
                for swap in swaps { requests.append((swap, try await store.requestFunding(instrument: swap.id, at: now))) }
                let deadline = ContinuousClock.now + .seconds(max(1, wait))
                var rows: [[String: String]] = []
                for (swap, id) in requests {
                    var outcome = try await store.fundingRequestOutcome(id)
                    while outcome == nil {
                        guard ContinuousClock.now < deadline else {
                            throw CLIError("no serving node settled \(swap.id) within \(wait) s: the request stays queued for the next server to run")
                        }
                        try await Task.sleep(for: .milliseconds(100))
                        outcome = try await store.fundingRequestOutcome(id)
                    }
                    if let failure = outcome, !failure.isEmpty { throw CLIError("the server could not settle \(swap.id): \(failure)") }
                    let last = try await store.fundingSettlements(instrument: swap.id, matching: Page(limit: 1)).first
                    guard let last, last.time >= now, last.method == "manual" else {
                        throw CLIError("the server could not settle \(swap.id) (see its log; it needs a mark price)")
                    }
                    rows.append(["instId": swap.id, "fundingRate": last.rate.text, "markPx": last.mark.text, "fundingTime": String(last.time)])
                }
                if options.json { return try Output.json(rows) }
                Output.table(["INSTRUMENT", "RATE", "MARK", "TIME"], rows.map { [($0["instId"] ?? ""), ($0["fundingRate"] ?? ""), ($0["markPx"] ?? ""), ($0["fundingTime"] ?? "")] })
            }
        }
    }

    struct Rates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each perpetual's current funding rate, premium and next funding time.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.marks.refresh()
                var rows: [[String: String]] = []
                for swap in try await installation.engine.allInstruments() where swap.type == .swap {
                    let quote = try await installation.funding.quote(swap)
                    rows.append([
                        "instId": swap.id, "fundingRate": quote.rate.text, "premium": quote.premium.text,
                        "fundingTime": String(quote.fundingTime), "settFundingRate": quote.lastSettled?.rate.text ?? "",
                    ])
                }
                if options.json { return try Output.json(rows) }
                Output.table(
                    ["INSTRUMENT", "RATE", "PREMIUM", "NEXT FUNDING", "LAST SETTLED"],
                    rows.map { [($0["instId"] ?? ""), ($0["fundingRate"] ?? ""), ($0["premium"] ?? ""), ($0["fundingTime"] ?? ""), ($0["settFundingRate"] ?? "")] })
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A perpetual's funding settlements, newest first.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A SWAP instrument, e.g. BTC-USDT-SWAP.") var instrument: String
        @Option(help: "At most this many.") var limit: Int = 20

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let swap = try await MarkCommand.swap(instrument, in: installation)
                let found = try await installation.funding.history(swap, page: Page(limit: max(1, min(limit, 400))))
                let rows = found.map {
                    ["instId": $0.instrument, "fundingRate": $0.rate.text, "markPx": $0.mark.text, "fundingTime": String($0.time), "method": $0.method]
                }
                if options.json { return try Output.json(rows) }
                Output.table(["INSTRUMENT", "RATE", "MARK", "TIME", "METHOD"], rows.map { [($0["instId"] ?? ""), ($0["fundingRate"] ?? ""), ($0["markPx"] ?? ""), ($0["fundingTime"] ?? ""), ($0["method"] ?? "")] })
            }
        }
    }
}
