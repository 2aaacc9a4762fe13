import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Random sequences of SWAP orders (limit and market, cross and isolated, reduce-only), cancels, leverage changes,
/// mark-price moves, funding settlements and liquidation checks between four thinly funded traders, after which the
/// books reconcile to the unit:
/// - every balance is ≥ 0 and the ledger's lines sum to zero per currency;
/// - each account's cash plus the margin of its open positions equals what it deposited plus the realised profit
///   and loss, fees and funding of every position it held (open or closed, liquidated ones among them);
/// - the clearing account holds the margin of every open position less the profit it paid out beyond the losses
///   it took in (Σ margins − Σ realised PnL over every position, the insurance fund's included);
/// - once every order is cancelled nothing stays frozen.
@Suite struct SwapPropertyTests {
    typealias S = SwapTradingTests

    /// Codes an order may be refused with in these sequences (anything else is a failure).
    static let expectedRefusals: Set<String> = ["51008", "51169", "51170", "51000", "51006", "51020", "51023"]
    /// Codes an amendment may be refused with (the order may also have filled or been cancelled since it was read).
    static let expectedAmendRefusals: Set<String> = ["51502", "51000", "51006", "51004", "51169", "51170", "51503", "51509", "51510"]

    @Test(arguments: [101, 102, 106, 108, 110, 112] as [UInt64])
    func randomSwapTradingReconcilesToTheUnit(seed: UInt64) async throws {
        try await Harness.run { h in
            var random = SeededGenerator(seed: seed)
            var traders: [(key: KeyCredentials, account: Account)] = []
            for index in 0..<4 { traders.append(try await h.trader("swaprand\(index)", usdt: "3000")) }
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            var mark: Int64 = 300_000  // 30000.0 at the tick's scale
            func markText() -> String { Amount(units: mark, scale: 1).text }
            try await S.pin(h, markText())
            var unexpected: [String] = []
            var placed = 0, amended = 0, liquidated = 0, settled = 0
            for _ in 0..<150 {
                let who = Int.random(in: 0..<traders.count, using: &random)
                let key = traders[who].key
                switch Int.random(in: 0..<20, using: &random) {
                case 0..<13:
                    let side = Bool.random(using: &random) ? "buy" : "sell"
                    let size = Amount(units: Int64.random(in: 10...400, using: &random), scale: 2).text
                    let tdMode = Bool.random(using: &random) ? "cross" : "isolated"
                    let reduce = Int.random(in: 0..<6, using: &random) == 0
                    var px: String?
                    if Int.random(in: 0..<10, using: &random) < 7 {
                        let offset = Int64.random(in: -200...200, using: &random)  // ±2 %, in hundredths of a percent
                        px = Amount(units: mark + mark * offset / 10_000, scale: 1).text
                    }
                    let reply = try await h.order(S.swap(side, sz: size, px: px, reduceOnly: reduce, tdMode: tdMode), as: key)
                    let code = S.sCode(reply) ?? reply.code
                    if code == "0" { placed += 1 } else if !Self.expectedRefusals.contains(code) { unexpected.append(reply.raw) }
                case 13:
                    let pending = try await h.call(.get, "/api/v5/trade/orders-pending?instType=SWAP", as: key)
                    if let id = pending.data.first?["ordId"] as? String {
                        let offset = Int64.random(in: -200...200, using: &random)
                        let px = Amount(units: mark + mark * offset / 10_000, scale: 1).text
                        let size = Amount(units: Int64.random(in: 10...400, using: &random), scale: 2).text
                        let fields = Bool.random(using: &random) ? #""newPx":"\#(px)""# : #""newSz":"\#(size)","newPx":"\#(px)""#
                        let reply = try await h.call(
                            .post, "/api/v5/trade/amend-order", body: #"{"instId":"BTC-USDT-SWAP","ordId":"\#(id)",\#(fields)}"#, as: key)
                        let code = reply.data.first?["sCode"] as? String ?? reply.code
                        if code == "0" { amended += 1 } else if !Self.expectedAmendRefusals.contains(code) { unexpected.append(reply.raw) }
                    }
                case 14:
                    let pending = try await h.call(.get, "/api/v5/trade/orders-pending?instType=SWAP", as: key)
                    if let id = pending.data.first?["ordId"] as? String {
                        let cancelled = try await h.call(
                            .post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT-SWAP","ordId":"\#(id)"}"#, as: key)
                        if cancelled.code != "0" { unexpected.append(cancelled.raw) }
                    }
                case 15:
                    let lever = [3, 10, 25, 50][Int.random(in: 0..<4, using: &random)]
                    let mode = Bool.random(using: &random) ? "cross" : "isolated"
                    let reply = try await h.call(
                        .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"\#(lever)","mgnMode":"\#(mode)"}"#,
                        as: key)
                    // 59000 with a position open, 59101/59107 with orders pending.
                    if !["0", "59000", "59101", "59107"].contains(reply.code) { unexpected.append(reply.raw) }
                case 16..<18:
                    mark += mark * Int64.random(in: -350...350, using: &random) / 10_000
                    try await S.pin(h, markText())
                default:
                    h.clock.advance(by: 1)
                    let outcome = try await h.installation.funding.settleNow(swap, origin: .test)
                    if outcome.positions > 0 { settled += 1 }
                }
                // As the serving node does every second.
                liquidated += await h.installation.funding.liquidateDue(logger: h.logs.logger)
            }
            #expect(unexpected.isEmpty, "\(unexpected)")
            #expect(placed > 20, "only \(placed) orders placed")
            try await Self.expectReconciled(h, traders.map(\.account), deposit: "3000", seed: seed)
            for trader in traders {
                while let id = try await h.call(.get, "/api/v5/trade/orders-pending?instType=SWAP", as: trader.key).data.first?["ordId"] as? String {
                    let reply = try await h.call(
                        .post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT-SWAP","ordId":"\#(id)"}"#, as: trader.key)
                    try #require(reply.code == "0", "\(reply.raw)")
                }
                let usdt = try await h.ledger.balances(of: trader.account).first { $0.kind == .trading && $0.currency == "USDT" }
                #expect(usdt?.frozen == 0, "\(trader.account.name) keeps \(usdt?.frozen ?? 0) frozen with no order open (seed \(seed))")
            }
            try await Self.expectReconciled(h, traders.map(\.account), deposit: "3000", seed: seed)
            // The sequences exercise what they are meant to (over all seeds these are far from zero).
            print("seed \(seed): \(placed) orders placed, \(amended) amended, \(liquidated) liquidations, \(settled) funding settlements")
        }
    }

    static func expectReconciled(_ h: Harness, _ accounts: [Account], deposit: String, seed: UInt64) async throws {
        let engine = h.installation.engine
        let scale = try await h.ledger.currency("USDT").scale
        let deposited = try #require(Amount(parsing: deposit, scale: scale)).units
        let open = try await engine.openPositions(of: nil).map(\.position)
        func closed(_ account: String) async throws -> [Position] {
            var found: [Position] = [], after: Int64?
            while true {
                let page = try await engine.positionHistory(of: account, instrument: nil, page: Page(after: after, limit: 100))
                found += page.map(\.closed.position)
                guard page.count == 100, let last = page.last else { return found }
                after = last.id
            }
        }
        func cash(_ account: String) async throws -> Int64 {
            let balances = try await h.ledger.trading(account: account)
            return balances.reduce(0) { $0 + $1.available + $1.frozen }
        }
        var realisedEverywhere: Int64 = 0
        for account in accounts {
            let held = open.filter { $0.key.account == account.uid }
            let all = held + (try await closed(account.uid))
            let expected = deposited + all.reduce(Int64(0)) { $0 + $1.realizedPnl - $1.fee + $1.fundingFee }
            let actual = try await cash(account.uid) + held.reduce(Int64(0)) { $0 + $1.margin }
            #expect(actual == expected, "\(account.name): cash + margin \(actual), deposit + realised \(expected) (seed \(seed))")
            realisedEverywhere += all.reduce(Int64(0)) { $0 + $1.realizedPnl }
        }
        let insurance = open.filter { $0.key.account == LedgerEntry.insurance } + (try await closed(LedgerEntry.insurance))
        realisedEverywhere += insurance.reduce(Int64(0)) { $0 + $1.realizedPnl }
        let margins = open.reduce(Int64(0)) { $0 + $1.margin }
        let clearing = try await cash(LedgerEntry.clearing)
        #expect(clearing == margins - realisedEverywhere, "clearing \(clearing), margins \(margins), realised \(realisedEverywhere) (seed \(seed))")
        // Every contract has its other side.
        #expect(open.reduce(Int64(0)) { $0 + $1.size * ($1.key.side == .short ? -1 : 1) } == 0)
        for account in accounts.map(\.uid) + [LedgerEntry.clearing, LedgerEntry.insurance, LedgerEntry.fees] {
            for balance in try await h.ledger.trading(account: account) {
                #expect(balance.available >= 0 && balance.frozen >= 0, "\(account) \(balance) (seed \(seed))")
            }
        }
        try await h.expectBalancedBooks(deposited: ["USDT": deposited * Int64(accounts.count)])
    }
}

extension LedgerService {
    /// The trading balances of the account `uid`.
    func trading(account uid: String) async throws -> [StoredBalance] {
        try await balances(uid: uid).filter { $0.kind == .trading }
    }
}
