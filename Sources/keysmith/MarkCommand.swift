import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore

/// `keysmith mark set|clear|list`: the operator's pins of perpetuals' mark prices.
struct MarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark",
        abstract: "Mark prices of the perpetual swaps: the spot index (mid of the pair's book), or a price the operator pins for tests and demonstrations.",
        subcommands: [Set.self, Clear.self, List.self])

    /// A listed instrument by id, read from the store (the books belong to the server).
    static func swap(_ id: String, in installation: Installation) async throws -> Instrument {
        guard let found = try await installation.ledger.instruments().first(where: { $0.id == id.uppercased() }) else {
            throw CLIError("no instrument \(id) is listed (keysmith instrument list)")
        }
        return found
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin a perpetual's mark price (a serving node applies it within a second, and it stays until cleared).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A SWAP instrument, e.g. BTC-USDT-SWAP.") var instrument: String
        @Argument(help: "The mark price, a multiple of the instrument's tick.") var price: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let swap = try await MarkCommand.swap(instrument, in: installation)
                try await installation.marks.pin(swap, at: price, origin: .cli("mark.set"))
                let pinned = installation.marks.pinned[swap.id] ?? price
                if options.json { return try Output.json(["instId": swap.id, "markPx": pinned, "pinned": "true"]) }
                Output.line("\(swap.id) mark price pinned at \(pinned)")
            }
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a pinned mark price: the mark follows the spot index again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A SWAP instrument, e.g. BTC-USDT-SWAP.") var instrument: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let swap = try await MarkCommand.swap(instrument, in: installation)
                try await installation.marks.pin(swap, at: nil, origin: .cli("mark.clear"))
                if options.json { return try Output.json(["instId": swap.id, "pinned": "false"]) }
                Output.line("\(swap.id) mark price follows the spot index")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List each perpetual's mark price, index and pin.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.marks.refresh()
                var rows: [[String]] = []
                for swap in try await installation.engine.allInstruments() where swap.type == .swap {
                    rows.append([
                        swap.id, try await installation.marks.mark(of: swap)?.text ?? "", try await installation.marks.index(of: swap)?.text ?? "",
                        installation.marks.pinned[swap.id] == nil ? "no" : "yes",
                    ])
                }
                if options.json {
                    return try Output.json(rows.map { ["instId": $0[0], "markPx": $0[1], "idxPx": $0[2], "pinned": $0[3] == "yes" ? "true" : "false"] })
                }
                Output.table(["INSTRUMENT", "MARK", "INDEX", "PINNED"], rows)
            }
        }
    }
}
