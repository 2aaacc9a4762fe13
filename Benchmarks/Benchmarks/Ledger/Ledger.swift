import Benchmark
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Logging

// The ledger's throughput on the embedded SQLite database, each operation a real transaction with its balance
// changes, double-entry lines and audit event: transfers per second, and orders per second against a book of
// 10 000 resting orders (matching included), plus the in-memory matching alone.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5))

    Benchmark("Transfer funding → trading (one SQLite transaction)") { (benchmark: Benchmark, setup: (LedgerService, Account)) async throws in
        let (ledger, account) = setup
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = try await ledger.transfer(
                TransferRequest(currency: "USDT", amount: "0.01", from: "6", to: "18"), by: account, origin: .system("bench"))
        }
    } setup: {
        let installation = try await LedgerBench.installation()
        let account = try await installation.accounts.createSubAccount(SubAccountRequest(name: "bench001"), origin: .system("bench"))
        _ = try await installation.ledger.deposit(to: account, currency: "USDT", amount: "1000000", origin: .system("bench"))
        return (installation.ledger, account)
    }

    // With fees (OKX's Lv1 rates) and without: what charging both sides of each fill (two more ledger lines) costs.
    for fees in [true, false] {
        Benchmark("Limit order matching one of 10 000 resting orders\(fees ? "" : ", no fees")") {
            (benchmark: Benchmark, setup: (MatchingEngine, APIKey, Account)) async throws in
            let (engine, key, account) = setup
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let outcome = await engine.place(
                    OrderRequest(instrument: "BTC-USDT", side: "buy", type: "limit", size: "0.0001", price: "40000"), key: key,
                    account: account, origin: .system("bench"))
                guard case .placed = outcome else { fatalError("benchmark order refused: \(outcome)") }
            }
        } setup: {
            try await LedgerBench.bookWith10kOrders(fees: fees)
        }
    }

    // A thousand matches per sample on one book: building the 10 000-order book for every sample would otherwise
    // dominate (cold caches) the single match measured.
    Benchmark(
        "In-memory plan + apply on a 10 000-order book",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxDuration: .seconds(5))
    ) { benchmark in
        var book = OrderBook()
        for i in 0..<10_000 {
            book.add(RestingOrder(id: Int64(i), account: "m", side: .sell, price: 300_000 + Int64(i % 1_000), remaining: 1_000_000_000))
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let matches = book.plan(side: .buy, limit: 400_000, size: 10_000)
            book.apply(matches)
            blackHole(matches)
        }
    }
}

enum LedgerBench {
    static func installation() async throws -> Installation {
        let folder = FileManager.default.temporaryDirectory.appending(path: "keysmith-bench-\(UUID().uuidString)")
        let installation = try await Installation.open(
            dataDirectory: folder, masterKey: nil, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: .system("bench"))
        return installation
    }

    /// A maker with 10 000 resting asks (1 BTC each, 1 000 price levels from 30 000.0 up) and a funded taker.
    static func bookWith10kOrders(fees: Bool = true) async throws -> (MatchingEngine, APIKey, Account) {
        let installation = try await installation()
        let origin = AuditOrigin.system("bench")
        if !fees { _ = try await installation.fees.set(level: "Lv1", instrumentType: "SPOT", maker: "0", taker: "0", origin: origin) }
        let maker = try await installation.accounts.createSubAccount(SubAccountRequest(name: "maker001"), origin: origin)
        let taker = try await installation.accounts.createSubAccount(SubAccountRequest(name: "taker001"), origin: origin)
        for (account, ccy, amount) in [(maker, "BTC", "10000"), (taker, "USDT", "100000000")] {
            _ = try await installation.ledger.deposit(to: account, currency: ccy, amount: amount, origin: origin)
            _ = try await installation.ledger.transfer(
                TransferRequest(currency: ccy, amount: amount, from: "6", to: "18"), by: account, origin: origin)
        }
        func key(_ account: Account) async throws -> APIKey {
            try await installation.keys.create(
                NewKeyRequest(account: account, label: "bench", permissions: [.readOnly, .trade], allowlist: .empty), origin: origin
            ).key
        }
        let makerKey = try await key(maker), takerKey = try await key(taker)
        for i in 0..<10_000 {
            let price = Amount(units: 300_000 + Int64(i % 1_000), scale: 1).text
            _ = await installation.engine.place(
                OrderRequest(instrument: "BTC-USDT", side: "sell", type: "limit", size: "1", price: price), key: makerKey,
                account: maker, origin: origin)
        }
        return (installation.engine, takerKey, taker)
    }
}
