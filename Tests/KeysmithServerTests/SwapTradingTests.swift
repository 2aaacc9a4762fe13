import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Perpetual swaps traded: positions opened and closed by fills, margin held by the clearing account, realised
/// profit and loss, fees at the SWAP rates, reduce-only rules, long/short legs. Figures at OKX's default SWAP rates
/// (maker 0.02 %, taker 0.05 %) and the default 10× leverage; BTC-USDT-SWAP contracts are 0.01 BTC.
@Suite struct SwapTradingTests {
    static func swap(
        _ side: String, sz: String, px: String? = nil, posSide: String? = nil, reduceOnly: Bool = false, tdMode: String = "cross"
    ) -> String {
        var fields = [
            #""instId":"BTC-USDT-SWAP""#, #""tdMode":"\#(tdMode)""#, #""side":"\#(side)""#, #""sz":"\#(sz)""#,
            #""ordType":"\#(px == nil ? "market" : "limit")""#,
        ]
        if let px { fields.append(#""px":"\#(px)""#) }
        if let posSide { fields.append(#""posSide":"\#(posSide)""#) }
        if reduceOnly { fields.append(#""reduceOnly":true"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func sCode(_ reply: OKXReply) -> String? { reply.data.first?["sCode"] as? String }

    /// `long` buys `sz` contracts at 30000 from a sell `short` rests there.
    static func open(_ h: Harness, long: KeyCredentials, short: KeyCredentials, sz: String, tdMode: String = "cross") async throws {
        #expect(sCode(try await h.order(swap("sell", sz: sz, px: "30000"), as: short)) == "0")
        #expect(sCode(try await h.order(swap("buy", sz: sz, tdMode: tdMode), as: long)) == "0")
    }

    /// The state of the order a placement answered.
    static func state(of placed: OKXReply, _ h: Harness, as key: KeyCredentials) async throws -> String? {
        let id = try #require(placed.data.first?["ordId"] as? String, "\(placed.raw)")
        return try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=\(id)", as: key).data.first?["state"] as? String
    }

    /// The best bid of BTC-USDT-SWAP's book.
    static func bestBid(_ h: Harness) async throws -> [String]? {
        (try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5", as: nil).data.first?["bids"] as? [[String]])?.first
    }

    /// Pins BTC-USDT-SWAP's mark (SWAP orders are priced within 5 % of it).
    static func pin(_ h: Harness, _ price: String) async throws {
        let inst = try await h.installation.engine.instrument("BTC-USDT-SWAP")
        try await h.installation.marks.pin(inst, at: price, origin: .test)
    }

    @Test
    func aLongOpensAndClosesAtAProfitThatBothSidesAndTheLedgerAgreeOn() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let taker = try await h.trader("swaptaker", usdt: "10000")
            try await Self.pin(h, "30000")
            // A resting sell of 2 contracts at 30000 (600 USDT) freezes its margin (60) and maker fee (0.12).
            let ask = try await h.order(Self.swap("sell", sz: "2", px: "30000"), as: maker.key)
            #expect(Self.sCode(ask) == "0", "\(ask.raw)")
            #expect(try await h.available(maker.account, .trading) == "9939.88")
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5", as: nil)
            #expect((book.data.first?["asks"] as? [[String]])?.first == ["30000", "2", "0", "1"], "\(book.raw)")

            // The taker buys them: 60 margin and 0.3 fee; the maker's frozen margin now holds its short.
            let buy = try await h.order(Self.swap("buy", sz: "2"), as: taker.key)
            let buyID = try #require(buy.data.first?["ordId"] as? String, "\(buy.raw)")
            #expect(try await h.available(taker.account, .trading) == "9939.7")
            #expect(try await h.available(maker.account, .trading) == "9939.88")
            let order = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=\(buyID)", as: taker.key)
            let item = try #require(order.data.first)
            let fields: [String: String] = [
                "state": "filled", "avgPx": "30000", "accFillSz": "2", "instType": "SWAP", "tdMode": "cross", "posSide": "net",
                "lever": "10", "fee": "-0.3", "feeCcy": "USDT", "reduceOnly": "false",
            ]
            for (field, value) in fields { #expect(item[field] as? String == value, "\(field) in \(order.raw)") }

            // The position keeps the leverage it opened at: changing it waits for the position to close.
            let relever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"5","mgnMode":"cross"}"#, as: taker.key)
            #expect(relever.code == "59000", "\(relever.raw)")
            // At a pinned mark of 31000 the long is 20 USDT up and the short 20 down.
            try await Self.pin(h, "31000")
            let long = try await h.call(.get, "/api/v5/account/positions?instType=SWAP", as: taker.key)
            let position = try #require(long.data.first, "\(long.raw)")
            let expected: [String: String] = [
                "instId": "BTC-USDT-SWAP", "pos": "2", "avgPx": "30000", "markPx": "31000", "upl": "20", "mgnMode": "cross",
                "posSide": "net", "lever": "10", "imr": "62", "notionalUsd": "620", "fee": "-0.3", "realizedPnl": "-0.3",
                "availPos": "2", "ccy": "USDT",
            ]
            for (field, value) in expected { #expect(position[field] as? String == value, "\(field) in \(long.raw)") }
            // The balance counts the margin the clearing account holds for the position, and its profit at the mark.
            let balance = try await h.call(.get, "/api/v5/account/balance?ccy=USDT", as: taker.key)
            let usdt = try #require((balance.data.first?["details"] as? [[String: Any]])?.first, "\(balance.raw)")
            let balanceFields: [String: String] = [
                "availBal": "9939.7", "cashBal": "9999.7", "frozenBal": "60", "ordFrozen": "0", "upl": "20", "eq": "10019.7", "imr": "62",
                "mmr": "2.48",
            ]
            for (field, value) in balanceFields { #expect(usdt[field] as? String == value, "\(field) in \(balance.raw)") }
            #expect(balance.data.first?["upl"] as? String == "20" && balance.data.first?["totalEq"] as? String == "10019.7")
            let short = try await h.call(.get, "/api/v5/account/positions", as: maker.key)
            #expect(short.data.first?["pos"] as? String == "-2" && short.data.first?["upl"] as? String == "-20", "\(short.raw)")

            // The maker closes its short with a reduce-only bid (it freezes only its fee, 0.124); the taker sells
            // into it, reduce-only too: +20 for the long, -20 for the short, the margins back, fees 0.31 and 0.124.
            let bid = try await h.order(Self.swap("buy", sz: "2", px: "31000", reduceOnly: true), as: maker.key)
            #expect(Self.sCode(bid) == "0", "\(bid.raw)")
            #expect(try await h.available(maker.account, .trading) == "9939.756")
            let sell = try await h.order(Self.swap("sell", sz: "2", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(sell) == "0", "\(sell.raw)")
            #expect(try await h.available(taker.account, .trading) == "10019.39")
            #expect(try await h.available(maker.account, .trading) == "9979.756")
            let clearing = try await h.ledger.clearingBalances().first { $0.kind == .trading && $0.currency == "USDT" }
            #expect((clearing?.available ?? 0) == 0 && (clearing?.frozen ?? 0) == 0)
            #expect(try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.isEmpty)
            #expect(try await h.call(.get, "/api/v5/account/positions", as: maker.key).data.isEmpty)

            let history = try await h.call(.get, "/api/v5/account/positions-history?instType=SWAP", as: taker.key)
            let closed = try #require(history.data.first, "\(history.raw)")
            let closedFields: [String: String] = [
                "direction": "long", "openAvgPx": "30000", "closeAvgPx": "31000", "pnl": "20", "fee": "-0.61",
                "realizedPnl": "19.39", "closeTotalPos": "2", "openMaxPos": "2", "type": "2", "posSide": "net", "mgnMode": "cross",
            ]
            for (field, value) in closedFields { #expect(closed[field] as? String == value, "\(field) in \(history.raw)") }
            let makerHistory = try await h.call(.get, "/api/v5/account/positions-history", as: maker.key)
            #expect(makerHistory.data.first?["direction"] as? String == "short" && makerHistory.data.first?["pnl"] as? String == "-20")
            let fills = try await h.call(.get, "/api/v5/trade/fills?instId=BTC-USDT-SWAP", as: taker.key)
            #expect(fills.data.map { $0["fillPnl"] as? String } == ["20", "0"], "\(fills.raw)")
            #expect(fills.data.allSatisfy { $0["instType"] as? String == "SWAP" && $0["feeCcy"] as? String == "USDT" })
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }

    @Test
    func reduceOnlyOrdersOnlyEverCloseAndShortMarginIsRefusedWithNothingMoved() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let taker = try await h.trader("swaptaker", usdt: "10000")
            try await Self.pin(h, "30000")
            let nothing = try await h.order(Self.swap("sell", sz: "1", px: "40000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(nothing) == "51169", "\(nothing.raw)")

            // A long of 1 contract.
            _ = try await h.order(Self.swap("sell", sz: "3", px: "30000"), as: maker.key)
            #expect(Self.sCode(try await h.order(Self.swap("buy", sz: "1"), as: taker.key)) == "0")
            let sameWay = try await h.order(Self.swap("buy", sz: "1", px: "29000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(sameWay) == "51170", "\(sameWay.raw)")
            let tooLarge = try await h.order(Self.swap("sell", sz: "2", px: "40000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(tooLarge) == "51000", "\(tooLarge.raw)")
            let closing = try await h.order(Self.swap("sell", sz: "1", px: "40000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(closing) == "0", "\(closing.raw)")
            let more = try await h.order(Self.swap("sell", sz: "0.5", px: "40000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(more) == "51169", "\(more.raw)")

            // The position turns short through an ordinary sell: the reduce-only sell has nothing left to close
            // and is cancelled with what it froze returned.
            let before = try await h.available(taker.account, .trading)
            _ = try await h.order(Self.swap("buy", sz: "2", px: "29000"), as: maker.key)
            let turn = try await h.order(Self.swap("sell", sz: "2"), as: taker.key)
            #expect(Self.sCode(turn) == "0", "\(turn.raw)")
            #expect(try await Self.state(of: closing, h, as: taker.key) == "canceled")
            let positions = try await h.call(.get, "/api/v5/account/positions", as: taker.key)
            #expect(positions.data.first?["pos"] as? String == "-1", "\(positions.raw)")
            #expect(try await h.call(.get, "/api/v5/trade/orders-pending?instType=SWAP", as: taker.key).data.isEmpty)
            #expect(before != (try await h.available(taker.account, .trading)))

            // Short of margin: 51008, and nothing moved (balance, book, positions).
            let poor = try await h.trader("swappoor1", usdt: "10")
            func levels() async throws -> [[[String]]] {
                let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5", as: nil).data.first
                return [book?["asks"] as? [[String]] ?? [], book?["bids"] as? [[String]] ?? []]
            }
            let book = try await levels()
            #expect(book != [[], []])
            let refused = try await h.order(Self.swap("buy", sz: "1"), as: poor.key)
            #expect(Self.sCode(refused) == "51008" && (refused.data.first?["sMsg"] as? String)?.contains("margin") == true, "\(refused.raw)")
            let resting = try await h.order(Self.swap("buy", sz: "1", px: "20000"), as: poor.key)
            #expect(Self.sCode(resting) == "51008", "\(resting.raw)")
            #expect(try await h.available(poor.account, .trading) == "10")
            #expect(try await levels() == book)
            #expect(try await h.call(.get, "/api/v5/account/positions", as: poor.key).data.isEmpty)

            // Settings wait for the position to close: 59000.
            let mode = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: taker.key)
            #expect(mode.code == "59000", "\(mode.raw)")
            try await h.expectBalancedBooks(deposited: ["USDT": 20_010_000_000])
        }
    }

    @Test
    func longShortLegsAreSeparatePositionsAndACancelReturnsTheMargin() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let hedger = try await h.trader("swaphedge", usdt: "10000")
            try await Self.pin(h, "30000")
            let mode = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: hedger.key)
            #expect(mode.code == "0", "\(mode.raw)")
            // A resting isolated long at 5×: margin 300 × 1 / 5 = 60 and fee 0.06 frozen; cancelling returns them.
            let lever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"5","mgnMode":"isolated","posSide":"long"}"#,
                as: hedger.key)
            #expect(lever.code == "0", "\(lever.raw)")
            let bid = try await h.order(Self.swap("buy", sz: "1", px: "30000", posSide: "long", tdMode: "isolated"), as: hedger.key)
            #expect(Self.sCode(bid) == "0", "\(bid.raw)")
            #expect(try await h.available(hedger.account, .trading) == "9939.94")
            let id = try #require(bid.data.first?["ordId"] as? String)
            let cancel = try await h.call(
                .post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT-SWAP","ordId":"\#(id)"}"#, as: hedger.key)
            #expect(cancel.code == "0", "\(cancel.raw)")
            #expect(try await h.available(hedger.account, .trading) == "10000")

            // Both legs open against the maker's orders: long 1 (isolated, 5×) and short 1 (cross, 10×).
            _ = try await h.order(Self.swap("sell", sz: "1", px: "30000"), as: maker.key)
            _ = try await h.order(Self.swap("buy", sz: "1", px: "29900"), as: maker.key)
            #expect(Self.sCode(try await h.order(Self.swap("buy", sz: "1", posSide: "long", tdMode: "isolated"), as: hedger.key)) == "0")
            #expect(Self.sCode(try await h.order(Self.swap("sell", sz: "1", posSide: "short"), as: hedger.key)) == "0")
            let legs = try await h.call(.get, "/api/v5/account/positions", as: hedger.key)
            let bySide = Dictionary(legs.data.map { ($0["posSide"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            #expect(bySide["long"]?["pos"] as? String == "1" && bySide["long"]?["margin"] as? String == "60", "\(legs.raw)")
            #expect(bySide["long"]?["mgnMode"] as? String == "isolated" && bySide["long"]?["lever"] as? String == "5")
            #expect(bySide["short"]?["pos"] as? String == "1" && bySide["short"]?["avgPx"] as? String == "29900", "\(legs.raw)")
            // Closing the long leg is a sell with posSide long; a leg closes no more than it holds.
            let tooMuch = try await h.order(Self.swap("sell", sz: "2", px: "35000", posSide: "long", tdMode: "isolated"), as: hedger.key)
            #expect(Self.sCode(tooMuch) == "51000", "\(tooMuch.raw)")
            let noShortToClose = try await h.order(Self.swap("buy", sz: "1", px: "20000", posSide: "short", tdMode: "isolated"), as: hedger.key)
            #expect(Self.sCode(noShortToClose) == "51169", "\(noShortToClose.raw)")
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }

    @Test
    func closePositionSellsTheWholePositionAtTheMarketAndCancelsClosingOrdersWhenAsked() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let taker = try await h.trader("swaptaker", usdt: "10000")
            try await Self.pin(h, "30000")
            _ = try await h.order(Self.swap("sell", sz: "3", px: "30000"), as: maker.key)
            _ = try await h.order(Self.swap("buy", sz: "2", px: "29000"), as: maker.key)
            #expect(Self.sCode(try await h.order(Self.swap("buy", sz: "2"), as: taker.key)) == "0")
            let pending = try await h.order(Self.swap("sell", sz: "1", px: "40000", reduceOnly: true), as: taker.key)
            #expect(Self.sCode(pending) == "0", "\(pending.raw)")

            let body = #"{"instId":"BTC-USDT-SWAP","mgnMode":"cross","clOrdId":"closeall1"}"#
            let claimed = try await h.order(body, as: taker.key, path: "/api/v5/trade/close-position")
            #expect(claimed.code == "51000" && claimed.msg.contains("autoCxl"), "\(claimed.raw)")
            let wrongMode = try await h.order(
                #"{"instId":"BTC-USDT-SWAP","mgnMode":"isolated","autoCxl":true}"#, as: taker.key, path: "/api/v5/trade/close-position")
            #expect(wrongMode.code == "51023", "\(wrongMode.raw)")

            let closed = try await h.order(
                #"{"instId":"BTC-USDT-SWAP","mgnMode":"cross","autoCxl":true,"clOrdId":"closeall1"}"#, as: taker.key,
                path: "/api/v5/trade/close-position")
            #expect(closed.code == "0" && closed.data.first?["clOrdId"] as? String == "closeall1", "\(closed.raw)")
            #expect(closed.data.first?["posSide"] as? String == "net" && closed.data.first?["instId"] as? String == "BTC-USDT-SWAP")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.isEmpty)
            #expect(try await h.call(.get, "/api/v5/trade/orders-pending?instType=SWAP", as: taker.key).data.isEmpty)
            // Sold at the maker's bid of 29000: 20 lost, fees 0.3 and 0.29.
            let history = try await h.call(.get, "/api/v5/account/positions-history", as: taker.key)
            #expect(history.data.first?["pnl"] as? String == "-20" && history.data.first?["fee"] as? String == "-0.59", "\(history.raw)")
            #expect(try await h.available(taker.account, .trading) == "9979.41")
            let again = try await h.order(#"{"instId":"BTC-USDT-SWAP","mgnMode":"cross"}"#, as: taker.key, path: "/api/v5/trade/close-position")
            #expect(again.code == "51023", "\(again.raw)")
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }

    @Test
    func ordersArePricedNearTheMarkAndMakersThatCannotTakeTheirMatchAreCancelledNotBlocking() async throws {
        try await Harness.run { h in
            let a = try await h.trader("swapalice", usdt: "1000")
            let b = try await h.trader("swapbobby", usdt: "10000")
            let noMark = try await h.order(Self.swap("buy", sz: "1", px: "30000"), as: b.key)
            #expect(Self.sCode(noMark) == "51006", "\(noMark.raw)")
            try await Self.pin(h, "30000")
            let far = try await h.order(Self.swap("buy", sz: "1", px: "31500.1"), as: b.key)
            #expect(Self.sCode(far) == "51006" && (far.data.first?["sMsg"] as? String)?.contains("31500") == true, "\(far.raw)")

            // A is long 10; it rests an ordinary sell of 10 and, behind it, a reduce-only sell of 10. A buy of 20
            // takes the first (A is flat) and finds the second with nothing to close: cancelled, and A never goes
            // short.
            try await Self.open(h, long: a.key, short: b.key, sz: "10")
            let ordinary = try await h.order(Self.swap("sell", sz: "10", px: "29990"), as: a.key)
            let closing = try await h.order(Self.swap("sell", sz: "10", px: "30000", reduceOnly: true), as: a.key)
            #expect(Self.sCode(ordinary) == "0" && Self.sCode(closing) == "0", "\(ordinary.raw) \(closing.raw)")
            let sweep = try await h.order(Self.swap("buy", sz: "20", px: "30000"), as: b.key)
            #expect(Self.sCode(sweep) == "0", "\(sweep.raw)")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: a.key).data.isEmpty)
            #expect(try await Self.state(of: closing, h, as: a.key) == "canceled")
            // B's bid rests for what was not filled, and the book still matches.
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5", as: nil)
            #expect((book.data.first?["bids"] as? [[String]])?.first == ["30000", "10", "0", "1"], "\(book.raw)")
            #expect(Self.sCode(try await h.order(Self.swap("sell", sz: "1"), as: a.key)) == "0")
            try await h.expectBalancedBooks(deposited: ["USDT": 11_000_000_000])
        }
    }

    @Test
    func aMakerThatCannotPayItsLossIsCancelledAndTheTakerTradesOn() async throws {
        try await Harness.run { h in
            let a = try await h.trader("swapalice", usdt: "100")
            let b = try await h.trader("swapbobby", usdt: "10000")
            try await Self.pin(h, "30000")
            let lever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"100","mgnMode":"cross"}"#, as: a.key)
            #expect(lever.code == "0", "\(lever.raw)")
            // A is long 1 at 30000 with 3 USDT of margin, and rests a reduce-only sell at 28500: a 15 USDT loss,
            // 12 beyond its margin, which it then moves out of the trading account.
            try await Self.open(h, long: a.key, short: b.key, sz: "1")
            let closing = try await h.order(Self.swap("sell", sz: "1", px: "28500", reduceOnly: true), as: a.key)
            #expect(Self.sCode(closing) == "0", "\(closing.raw)")
            let left = try await h.available(a.account, .trading)
            _ = try await h.ledger.transfer(TransferRequest(currency: "USDT", amount: left, from: "18", to: "6"), by: a.account, origin: .test)
            _ = try await h.order(Self.swap("buy", sz: "1", px: "28500"), as: b.key)
            #expect(try await Self.state(of: closing, h, as: a.key) == "canceled")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: a.key).data.first?["pos"] as? String == "1")
            #expect(try await Self.bestBid(h) == ["28500", "1", "0", "1"])
            try await h.expectBalancedBooks(deposited: ["USDT": 10_100_000_000])
        }
    }

    @Test
    func concurrentClosingOrdersCloseAPositionOnce() async throws {
        try await Harness.run { h in
            let a = try await h.trader("swapalice", usdt: "1000")
            let b = try await h.trader("swapbobby", usdt: "10000")
            try await Self.pin(h, "30000")
            try await Self.open(h, long: a.key, short: b.key, sz: "10")
            _ = try await h.order(Self.swap("buy", sz: "20", px: "30000"), as: b.key)
            // Two closing orders reach the engine at once: the second is planned on what the first committed.
            let key = try await h.installation.keys.create(
                NewKeyRequest(account: a.account, label: "race", permissions: [.readOnly, .trade], allowlist: .empty, rateLimit: .unlimited),
                origin: .test
            ).key
            let requests = (1...6).map { n in
                OrderRequest(
                    instrument: "BTC-USDT-SWAP", tradeMode: "cross", side: "sell", type: "market", size: "10", clientOrderID: "close\(n)",
                    reduceOnly: true)
            }
            let engine = h.installation.engine, account = a.account
            let codes = await withTaskGroup(of: String.self) { group in
                for request in requests {
                    group.addTask {
                        switch await engine.place(request, key: key, account: account, origin: .test) {
                        case .placed: "0"
                        case .refused(let error, _, _): error.code
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }.sorted()
            }
            #expect(codes == ["0"] + Array(repeating: "51169", count: 5), "\(codes)")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: a.key).data.isEmpty)
            #expect(try await Self.bestBid(h) == ["30000", "10", "0", "1"])
            try await h.expectBalancedBooks(deposited: ["USDT": 11_000_000_000])
        }
    }

    @Test
    func fundingMovesFromLongsToShortsThroughTheLedgerAndReadsBackAsOKXDoes() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let taker = try await h.trader("swaptaker", usdt: "10000")
            try await Self.pin(h, "30000")
            try await Self.open(h, long: taker.key, short: maker.key, sz: "2")
            // No swap book and no spot price: the premium is 0, the rate OKX's interest of 0.01 % per period.
            let rate = try await h.call(.get, "/api/v5/public/funding-rate?instId=BTC-USDT-SWAP", as: nil)
            let quoted = try #require(rate.data.first, "\(rate.raw)")
            let now = h.clock.milliseconds, interval = Funding.defaultInterval
            #expect(quoted["fundingRate"] as? String == "0.0001" && quoted["premium"] as? String == "0", "\(rate.raw)")
            #expect(quoted["fundingTime"] as? String == String((now / interval + 1) * interval))
            #expect(quoted["nextFundingTime"] as? String == String((now / interval + 2) * interval))
            #expect(quoted["maxFundingRate"] as? String == "0.00375" && quoted["minFundingRate"] as? String == "-0.00375")

            // The long pays 600 × 0.01 % = 0.06 to the short.
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            let first = try await h.installation.funding.settleNow(swap, origin: .test)
            #expect(first.positions == 2 && first.paid == 60_000 && first.received == 60_000)
            #expect(try await h.available(taker.account, .trading) == "9939.64")
            #expect(try await h.available(maker.account, .trading) == "9939.94")
            let long = try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.first
            #expect(long?["fundingFee"] as? String == "-0.06" && long?["realizedPnl"] as? String == "-0.36")
            let bills = try await h.call(.get, "/api/v5/account/bills?type=8", as: taker.key)
            let bill = try #require(bills.data.first, "\(bills.raw)")
            #expect(bill["subType"] as? String == "173" && bill["balChg"] as? String == "-0.06" && bill["instId"] as? String == "BTC-USDT-SWAP")
            #expect(bill["instType"] as? String == "SWAP", "\(bills.raw)")
            let income = try await h.call(.get, "/api/v5/account/bills?type=8", as: maker.key).data.first
            #expect(income?["subType"] as? String == "174" && income?["balChg"] as? String == "0.06")
            let trades = try await h.call(.get, "/api/v5/account/bills?type=2&instType=SWAP", as: taker.key)
            #expect(trades.data.first?["subType"] as? String == "3" && trades.data.first?["mgnMode"] as? String == "cross", "\(trades.raw)")

            // A long whose account has nothing available pays from its margin: the clearing account pays.
            let left = try await h.available(taker.account, .trading)
            _ = try await h.ledger.transfer(TransferRequest(currency: "USDT", amount: left, from: "18", to: "6"), by: taker.account, origin: .test)
            h.clock.advance(by: 1)
            _ = try await h.installation.funding.settleNow(swap, origin: .test)
            let clearing = try await h.ledger.clearingBalances().first { $0.kind == .trading && $0.currency == "USDT" }
            #expect(clearing?.available == 119_940_000)
            #expect(try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.first?["fundingFee"] as? String == "-0.12")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: maker.key).data.first?["fundingFee"] as? String == "0.12")
            let history = try await h.call(.get, "/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP", as: nil)
            #expect(history.data.count == 2 && history.data.allSatisfy { $0["realizedRate"] as? String == "0.0001" }, "\(history.raw)")
            let settled = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter { $0.record.details["fundingRate"] != nil }
            #expect(settled.count == 2)
            // The same instrument and time twice: refused, nothing moves.
            await #expect(throws: OKXError.self) { try await h.installation.funding.settleNow(swap, origin: .test) }
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }

    /// `keysmith funding settle` queues a request the serving node claims, settles and only then finishes: a
    /// request reads as ended only once its settlement is there (claimed alone, it is still under way), and a
    /// settlement that fails says why.
    @Test
    func aRequestedSettlementEndsOnlyOnceSettled() async throws {
        try await Harness.run { h in
            let long = try await h.trader("requestlong", usdt: "10000")
            let short = try await h.trader("requestshrt", usdt: "10000")
            try await Self.pin(h, "30000")
            try await Self.open(h, long: long.key, short: short.key, sz: "1")
            let store = h.installation.orders
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            // The harness's own scheduler may take a queued request first: wait until it has ended, whoever took it.
            func ended(_ id: Int64) async throws -> String? {
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    if let outcome = try await store.fundingRequestOutcome(id) { return outcome }
                    try await Task.sleep(for: .milliseconds(10))
                }
                return nil
            }
            // Claimed by a node but not settled yet: still under way, and no other node takes it.
            let claimed = try await store.requestFunding(instrument: swap.id, at: h.clock.milliseconds)
            #expect(try await store.claimFundingRequest(claimed, at: h.clock.milliseconds))
            #expect(try await store.fundingRequestOutcome(claimed) == nil)
            #expect(try await store.claimFundingRequest(claimed, at: h.clock.milliseconds) == false)
            #expect(try await store.pendingFundingRequests().map(\.id).contains(claimed) == false)
            // A request the serving node settles: ended, with the settlement already recorded.
            h.clock.advance(by: 1)
            let queued = try await store.requestFunding(instrument: swap.id, at: h.clock.milliseconds)
            await h.installation.funding.processRequests(logger: h.logs.logger)
            #expect(try await ended(queued) == "")
            #expect(try await h.installation.funding.history(swap, page: Page(limit: 5)).map(\.method) == ["manual"])
            // One that cannot settle (no mark: the pin released and no spot book) ends with the reason.
            try await h.installation.marks.pin(swap, at: nil, origin: .test)
            h.clock.advance(by: 1)
            let failing = try await store.requestFunding(instrument: swap.id, at: h.clock.milliseconds)
            await h.installation.funding.processRequests(logger: h.logs.logger)
            let reason = try await ended(failing)
            #expect(reason?.contains("no mark price") == true, "\(reason ?? "pending")")
        }
    }

    @Test
    func aPositionAtItsMaintenanceMarginIsLiquidatedIntoTheInsuranceFundAndTheLedgerBalances() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("swapmaker", usdt: "10000")
            let taker = try await h.trader("swaptaker", usdt: "10000")
            try await Self.pin(h, "30000")
            try await Self.open(h, long: taker.key, short: maker.key, sz: "2", tdMode: "isolated")
            let closing = try await h.order(Self.swap("sell", sz: "2", px: "31000", reduceOnly: true, tdMode: "isolated"), as: taker.key)
            #expect(Self.sCode(closing) == "0", "\(closing.raw)")
            // 60 of margin on 600: liquidated where 60 + (p − 30000) × 0.02 no longer exceeds 0.4 % of p × 0.02.
            let long = try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.first
            #expect(long?["liqPx"] as? String == "27108.4" && long?["margin"] as? String == "60", "\(String(describing: long))")

            let funding = h.installation.funding
            try await Self.pin(h, "27108.5")
            #expect(await funding.liquidateDue(logger: h.logs.logger) == 0)
            try await Self.pin(h, "27108.4")
            #expect(await funding.liquidateDue(logger: h.logs.logger) == 1, "\(h.logs.text)")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: taker.key).data.isEmpty)
            let history = try await h.call(.get, "/api/v5/account/positions-history", as: taker.key).data.first
            #expect(history?["type"] as? String == "3" && history?["closeAvgPx"] as? String == "27000", "\(String(describing: history))")
            #expect(history?["pnl"] as? String == "-60")
            // The account lost the position's margin and nothing else; its closing order is cancelled.
            #expect(try await h.available(taker.account, .trading) == "9939.7")
            #expect(try await Self.state(of: closing, h, as: taker.key) == "canceled")
            // The insurance fund holds the contracts at the bankruptcy price; the short keeps its position.
            let fund = try await h.installation.orders.openPositions(account: LedgerEntry.insurance)
            #expect(fund.map(\.size) == [200] && fund.first?.openValue == 270_000 * 200, "\(fund)")
            #expect(try await h.call(.get, "/api/v5/account/positions", as: maker.key).data.first?["pos"] as? String == "-2")
            let events = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter { $0.record.action == "position.liquidate" }
            #expect(events.count == 1 && events.first?.record.account == taker.account.uid && events.first?.record.details["bkPx"] == "27000")
            #expect(await funding.liquidateDue(logger: h.logs.logger) == 0)
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }
}
