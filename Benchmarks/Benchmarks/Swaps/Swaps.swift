import Benchmark
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Logging

// Perpetual swaps on the embedded SQLite database: SWAP orders placed and matched against a book of 10 000 resting
// orders (each a real transaction: both positions, margin held by the clearing account, fees, audit event), next to
// the same for a spot order in the same run; and one funding settlement of every open position of both perpetuals
// (100 000 by default, `KEYSMITH_BENCH_POSITIONS`), each paying or receiving through the ledger.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5))

    Benchmark("SWAP limit order matching one of 10 000 resting orders") { (benchmark: Benchmark, setup: SwapBench.Book) async throws in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let outcome = await setup.engine.place(
                OrderRequest(
                    instrument: "BTC-USDT-SWAP", tradeMode: "cross", side: "buy", type: "limit", size: "0.01", price: "30150"),
                key: setup.key, account: setup.account, origin: .system("bench"))
            guard case .placed = outcome else { fatalError("benchmark order refused: \(outcome)") }
        }
    } setup: {
        try await SwapBench.swapBook()
    }

    Benchmark("Spot limit order matching one of 10 000 resting orders (the same run)") {
        (benchmark: Benchmark, setup: SwapBench.Book) async throws in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let outcome = await setup.engine.place(
                OrderRequest(instrument: "BTC-USDT", side: "buy", type: "limit", size: "0.0001", price: "40000"), key: setup.key,
                account: setup.account, origin: .system("bench"))
            guard case .placed = outcome else { fatalError("benchmark order refused: \(outcome)") }
        }
    } setup: {
        try await SwapBench.spotBook()
    }

    Benchmark(
        "Funding settlement of every open position (BTC and ETH perpetuals)",
        configuration: .init(metrics: [.wallClock], maxDuration: .seconds(60), maxIterations: 5)
    ) { (benchmark: Benchmark, setup: SwapBench.Positions) async throws in
        for _ in benchmark.scaledIterations {
            for swap in setup.swaps {
                let outcome = try await setup.installation.funding.settleNow(swap, origin: .system("bench"))
                blackHole(outcome)
            }
        }
    } setup: {
        try await SwapBench.positions(ProcessInfo.processInfo.environment["KEYSMITH_BENCH_POSITIONS"].flatMap(Int.init) ?? 100_000)
    }
}

enum SwapBench {
    struct Book: Sendable {
        let engine: MatchingEngine
        let key: APIKey
        let account: Account
    }

    struct Positions: Sendable {
        let installation: Installation
        let swaps: [Instrument]
    }

    static let origin = AuditOrigin.system("bench")

    static func installation() async throws -> Installation {
        let folder = FileManager.default.temporaryDirectory.appending(path: "keysmith-bench-\(UUID().uuidString)")
        let installation = try await Installation.open(
            dataDirectory: folder, masterKey: nil, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: origin)
        return installation
    }

    /// A sub-account whose trading balance holds `amount` of `ccy`, and a trading key for it.
    static func trader(_ name: String, _ ccy: String, _ amount: String, in installation: Installation) async throws -> (Account, APIKey) {
        let account = try await installation.accounts.createSubAccount(SubAccountRequest(name: name), origin: origin)
        _ = try await installation.ledger.deposit(to: account, currency: ccy, amount: amount, origin: origin)
        _ = try await installation.ledger.transfer(TransferRequest(currency: ccy, amount: amount, from: "6", to: "18"), by: account, origin: origin)
        let key = try await installation.keys.create(
            NewKeyRequest(account: account, label: "bench", permissions: [.readOnly, .trade], allowlist: .empty), origin: origin
        ).key
        return (account, key)
    }

    static func place(_ request: OrderRequest, _ key: APIKey, _ account: Account, on engine: MatchingEngine) async {
        let outcome = await engine.place(request, key: key, account: account, origin: origin)
        guard case .placed = outcome else { fatalError("benchmark setup order refused: \(outcome)") }
    }

    /// 10 000 resting SWAP asks of one contract (1 000 price levels from 30 000.0 up, the mark pinned at 30 000) and a
    /// funded taker.
    static func swapBook() async throws -> Book {
        let installation = try await installation()
        let (maker, makerKey) = try await trader("maker001", "USDT", "100000000", in: installation)
        let (taker, takerKey) = try await trader("taker001", "USDT", "100000000", in: installation)
        try await installation.marks.pin(try await installation.engine.instrument("BTC-USDT-SWAP"), at: "30000", origin: origin)
        for i in 0..<10_000 {
            let price = Amount(units: 300_000 + Int64(i % 1_000), scale: 1).text
            await place(
                OrderRequest(instrument: "BTC-USDT-SWAP", tradeMode: "cross", side: "sell", type: "limit", size: "1", price: price),
                makerKey, maker, on: installation.engine)
        }
        return Book(engine: installation.engine, key: takerKey, account: taker)
    }

    /// The spot book of the ledger benchmarks: 10 000 resting asks of 1 BTC from 30 000.0 up, and a funded taker.
    static func spotBook() async throws -> Book {
        let installation = try await installation()
        let (maker, makerKey) = try await trader("maker001", "BTC", "10000", in: installation)
        let (taker, takerKey) = try await trader("taker001", "USDT", "100000000", in: installation)
        for i in 0..<10_000 {
            let price = Amount(units: 300_000 + Int64(i % 1_000), scale: 1).text
            await place(
                OrderRequest(instrument: "BTC-USDT", side: "sell", type: "limit", size: "1", price: price), makerKey, maker,
                on: installation.engine)
        }
        return Book(engine: installation.engine, key: takerKey, account: taker)
    }

    /// `count` open positions (rounded to a multiple of 8): accounts in long/short mode each hold a cross and an
    /// isolated long and short leg of both perpetuals, opened as makers against a house account that sells to every
    /// long and buys from every short (its own position nets to nothing).
    static func positions(_ count: Int) async throws -> Positions {
        let installation = try await installation()
        let engine = installation.engine
        let btc = try await engine.instrument("BTC-USDT-SWAP"), eth = try await engine.instrument("ETH-USDT-SWAP")
        try await installation.marks.pin(btc, at: "30000", origin: origin)
        try await installation.marks.pin(eth, at: "2000", origin: origin)
        let (house, houseKey) = try await trader("house001", "USDT", "1000000000", in: installation)
        let accounts = max(1, count / 8)
        let quotes = [("BTC-USDT-SWAP", "29990", "30010"), ("ETH-USDT-SWAP", "1999", "2001")]
        for index in 0..<accounts {
            let (account, key) = try await trader("pos" + String(index).leftPadded(to: 8), "USDT", "10000", in: installation)
            let hedged = try await installation.accounts.setModes(account, positionMode: .longShort, origin: origin)
            // Bids below and asks above the mark, so an account's legs never meet each other.
            for (inst, bid, ask) in quotes {
                for mode in ["cross", "isolated"] {
                    for (side, leg, px) in [("buy", "long", bid), ("sell", "short", ask)] {
                        await place(
                            OrderRequest(
                                instrument: inst, tradeMode: mode, side: side, type: "limit", size: "0.1", price: px, positionSide: leg),
                            key, hedged, on: engine)
                    }
                }
            }
            // Every 100 accounts, the house takes what rests: its sells fill the longs, its buys the shorts.
            if (index + 1) % 100 == 0 || index == accounts - 1 {
                let size = Amount(units: Int64(((index % 100) + 1) * 2 * 10), scale: 2).text
                for (inst, bid, ask) in quotes {
                    for (side, px) in [("sell", bid), ("buy", ask)] {
                        await place(
                            OrderRequest(instrument: inst, tradeMode: "cross", side: side, type: "limit", size: size, price: px), houseKey,
                            house, on: engine)
                    }
                }
            }
            if (index + 1) % 1_000 == 0 { print("\((index + 1) * 8) positions …") }
        }
        return Positions(installation: installation, swaps: [btc, eth])
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
