import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

extension Harness {
    /// A trading key for a new sub-account whose trading balance holds `usdt` USDT and `btc` BTC.
    func trader(_ name: String, usdt: String = "0", btc: String = "0", restrictions: TradingRestrictions = .none) async throws
        -> (key: KeyCredentials, account: Account)
    {
        let account = try await existingOrNewSubAccount(name)
        var request = NewKeyRequest(
            account: account, label: "trader", permissions: [.readOnly, .trade], allowlist: .empty, rateLimit: .unlimited)
        request.trading = restrictions
        let created = try await installation.keys.create(request, origin: .test)
        for (ccy, amount) in [("USDT", usdt), ("BTC", btc)] where amount != "0" {
            try await deposit(amount, ccy, to: account)
            _ = try await ledger.transfer(TransferRequest(currency: ccy, amount: amount, from: "6", to: "18"), by: account, origin: .test)
        }
        return (created.credentials, account)
    }

    /// No trading fees, for tests about something else that need round numbers.
    func waiveFees() async throws {
        _ = try await installation.fees.set(level: "Lv1", instrumentType: "SPOT", maker: "0", taker: "0", origin: .test)
    }

    func order(_ body: String, as key: KeyCredentials, path: String = "/api/v5/trade/order") async throws -> OKXReply {
        clock.advance(by: 1)
        return try await call(.post, path, body: body, as: key)
    }
}

@Suite struct TradingTests {
    static func limit(_ side: String, sz: String, px: String, clOrdId: String = "", type: String = "limit") -> String {
        #"{"instId":"BTC-USDT","tdMode":"cash","side":"\#(side)","ordType":"\#(type)","sz":"\#(sz)","px":"\#(px)","clOrdId":"\#(clOrdId)"}"#
    }

    @Test
    func aCrossingOrderFillsAtTheMakersPriceAndMovesBothSides() async throws {
        try await Harness.run { h in
            let seller = try await h.trader("seller01", btc: "1")
            let buyer = try await h.trader("buyer001", usdt: "50000")
            let ask = try await h.order(Self.limit("sell", sz: "0.5", px: "30000"), as: seller.key)
            #expect(ask.code == "0" && ask.data.first?["sCode"] as? String == "0", "\(ask.raw)")
            #expect(try await h.available(seller.account, .trading, "BTC") == "0.5")  // 0.5 frozen
            let bid = try await h.order(Self.limit("buy", sz: "0.2", px: "31000", clOrdId: "bid1"), as: buyer.key)
            let bidID = try #require(bid.data.first?["ordId"] as? String)
            #expect(bid.data.first?["clOrdId"] as? String == "bid1")
            // Filled at the resting price: 0.2 × 30000 = 6000 USDT; the buyer took (0.1 % of 0.2 BTC), the seller made
            // (0.08 % of 6000 USDT).
            #expect(try await h.available(buyer.account, .trading, "BTC") == "0.1998")
            #expect(try await h.available(buyer.account, .trading, "USDT") == "44000")
            #expect(try await h.available(seller.account, .trading, "USDT") == "5995.2")
            // Valued at the last price: 44000 USDT + 0.1998 BTC × 30000.
            let valued = try await h.call(.get, "/api/v5/account/balance", as: buyer.key)
            #expect(valued.data.first?["totalEq"] as? String == "49994")
            let order = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(bidID)", as: buyer.key)
            #expect(order.data.first?["state"] as? String == "filled" && order.data.first?["avgPx"] as? String == "30000")
            #expect(order.data.first?["accFillSz"] as? String == "0.2")
            let pending = try await h.call(.get, "/api/v5/trade/orders-pending?instId=BTC-USDT", as: seller.key)
            #expect(pending.data.first?["state"] as? String == "partially_filled" && pending.data.first?["accFillSz"] as? String == "0.2")
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT&sz=5", as: nil)
            #expect((book.data.first?["asks"] as? [[String]])?.first == ["30000", "0.3", "0", "1"])
            let ticker = try await h.call(.get, "/api/v5/market/ticker?instId=BTC-USDT", as: nil)
            #expect(ticker.data.first?["last"] as? String == "30000" && ticker.data.first?["askPx"] as? String == "30000")
            let candles = try await h.call(.get, "/api/v5/market/candles?instId=BTC-USDT&bar=1m", as: nil)
            let candle = try #require((candles.raw.data(using: .utf8)).flatMap {
                (try? JSONSerialization.jsonObject(with: $0) as? [String: Any])?["data"] as? [[String]]
            }?.first)
            #expect(candle[1...5] == ["30000", "30000", "30000", "30000", "0.2"])
            let fills = try await h.call(.get, "/api/v5/trade/fills?instId=BTC-USDT", as: seller.key)
            #expect(fills.data.first?["side"] as? String == "sell" && fills.data.first?["execType"] as? String == "M")
            try await h.expectBalancedBooks(deposited: ["USDT": 50_000_000_000, "BTC": 100_000_000])
        }
    }

    @Test
    func cancellingReturnsWhatTheOrderHeld() async throws {
        try await Harness.run { h in
            let buyer = try await h.trader("buyer001", usdt: "1000")
            let bid = try await h.order(Self.limit("buy", sz: "0.01", px: "20000.3"), as: buyer.key)
            let id = try #require(bid.data.first?["ordId"] as? String)
            #expect(try await h.available(buyer.account, .trading, "USDT") == "799.997")
            h.clock.advance(by: 1)
            let cancel = try await h.call(.post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT","ordId":"\#(id)"}"#, as: buyer.key)
            #expect(cancel.code == "0" && cancel.data.first?["sCode"] as? String == "0")
            #expect(try await h.available(buyer.account, .trading, "USDT") == "1000")
            h.clock.advance(by: 1)
            let again = try await h.call(.post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT","ordId":"\#(id)"}"#, as: buyer.key)
            #expect(again.code == "1" && again.data.first?["sCode"] as? String == "51400")
            #expect(try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=424242", as: buyer.key).code == "51603")
            let history = try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT", as: buyer.key)
            #expect(history.data.first?["state"] as? String == "canceled")
        }
    }

    @Test
    func orderTypesBehaveAsOKXs() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("maker001", btc: "1")
            let taker = try await h.trader("taker001", usdt: "100000")
            _ = try await h.order(Self.limit("sell", sz: "0.1", px: "30000"), as: maker.key)
            // post_only that would take is cancelled, untouched.
            let post = try await h.order(Self.limit("buy", sz: "0.1", px: "30000", type: "post_only"), as: taker.key)
            let postID = try #require(post.data.first?["ordId"] as? String)
            let postState = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(postID)", as: taker.key)
            #expect(postState.data.first?["state"] as? String == "canceled")
            // fok larger than the book: nothing fills.
            _ = try await h.order(Self.limit("buy", sz: "0.2", px: "30000", type: "fok"), as: taker.key)
            #expect(try await h.available(taker.account, .trading, "BTC") == "0")
            // ioc fills what is there and cancels the rest.
            let ioc = try await h.order(Self.limit("buy", sz: "0.3", px: "30000", type: "ioc"), as: taker.key)
            let iocID = try #require(ioc.data.first?["ordId"] as? String)
            let iocState = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(iocID)", as: taker.key)
            #expect(iocState.data.first?["state"] as? String == "canceled" && iocState.data.first?["accFillSz"] as? String == "0.1")
            #expect(try await h.available(taker.account, .trading, "USDT") == "97000")
            // A market buy sized in USDT spends up to that much.
            _ = try await h.order(Self.limit("sell", sz: "0.5", px: "40000"), as: maker.key)
            let market = try await h.order(
                #"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"4000"}"#, as: taker.key)
            #expect(market.code == "0", "\(market.raw)")
            // 0.1 BTC from the ioc and 0.1 from the market buy, less the taker's 0.1 % of each.
            #expect(try await h.available(taker.account, .trading, "BTC") == "0.1998")
            #expect(try await h.available(taker.account, .trading, "USDT") == "93000")
            try await h.expectBalancedBooks(deposited: ["USDT": 100_000_000_000, "BTC": 100_000_000])
        }
    }

    @Test(arguments: [
        (limit("buy", sz: "1", px: "30000"), "51008"),
        (limit("buy", sz: "0.000001", px: "30000"), "51020"),
        (limit("buy", sz: "0.0001", px: "30000.05"), "51000"),
        (#"{"instId":"DOGE-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"1","px":"1"}"#, "51001"),
        (#"{"instId":"BTC-USDT","tdMode":"cross","side":"buy","ordType":"limit","sz":"0.001","px":"1"}"#, "51000"),
        (#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"stop","sz":"0.001","px":"1"}"#, "51000"),
    ])
    func refusedOrdersAnswerPerItemCodesAndMoveNothing(_ body: String, _ sCode: String) async throws {
        try await Harness.run { h in
            let buyer = try await h.trader("buyer001", usdt: "1000")
            let reply = try await h.order(body, as: buyer.key)
            #expect(reply.code == "1" && reply.msg == "All operations failed")
            #expect(reply.data.first?["sCode"] as? String == sCode, "\(reply.raw)")
            #expect(try await h.available(buyer.account, .trading, "USDT") == "1000")
        }
    }

    @Test
    func batchOrdersTakeAnArrayAndReportEachItem() async throws {
        try await Harness.run { h in
            let buyer = try await h.trader("buyer001", usdt: "1000")
            let body = "[" + Self.limit("buy", sz: "0.001", px: "20000", clOrdId: "a1") + "," + Self.limit("buy", sz: "1", px: "20000") + "]"
            #expect(try await h.order(body, as: buyer.key).code == "50002")  // trade/order takes one object
            let reply = try await h.order(body, as: buyer.key, path: "/api/v5/trade/batch-orders")
            #expect(reply.code == "2")
            #expect(reply.data.map { $0["sCode"] as? String } == ["0", "51008"])
            // The request's audit event carries the top-level code and each item's sCode.
            await h.auditWritten()
            #expect(try await h.auditEvents(action: "POST /api/v5/trade/batch-orders").contains { $0.record.result == "2,0,51008" })
            let duplicate = try await h.order(
                "[" + Self.limit("buy", sz: "0.001", px: "20000", clOrdId: "a1") + "]", as: buyer.key, path: "/api/v5/trade/batch-orders")
            #expect(duplicate.data.first?["sCode"] as? String == "51016")
        }
    }

    @Test
    func keyRestrictionsAreEnforcedOnOrders() async throws {
        try await Harness.run { h in
            let limited = try await h.trader(
                "limited1", usdt: "100000",
                restrictions: try TradingRestrictions(instruments: "ETH-USDT", maxOrderUSDT: "100", maxDailyUSDT: "150"))
            let btc = try await h.order(Self.limit("buy", sz: "0.001", px: "30000"), as: limited.key)
            #expect(btc.data.first?["sCode"] as? String == "50120")
            func eth(_ size: String) -> String {
                #"{"instId":"ETH-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"\#(size)","px":"1000"}"#
            }
            #expect(try await h.order(eth("0.2"), as: limited.key).data.first?["sCode"] as? String == "51000")  // 200 > 100
            #expect(try await h.order(eth("0.09"), as: limited.key).data.first?["sCode"] as? String == "0")    // 90
            #expect(try await h.order(eth("0.09"), as: limited.key).data.first?["sCode"] as? String == "51000") // 180 > 150 a day
        }
    }

    /// cancel-batch-orders cancels each item in turn, by ordId or clOrdId, and answers for each.
    @Test
    func aBatchOfCancelsAnswersPerOrder() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000", btc: "1")
            let bid = try await h.order(Self.limit("buy", sz: "0.1", px: "20000"), as: trader.key)
            _ = try await h.order(Self.limit("sell", sz: "0.2", px: "40000", clOrdId: "ask1"), as: trader.key)
            let bidID = try #require(bid.data.first?["ordId"] as? String)
            #expect(try await h.available(trader.account, .trading, "USDT") == "8000")
            let body = #"[{"instId":"BTC-USDT","ordId":"\#(bidID)"},{"instId":"BTC-USDT","clOrdId":"ask1"},{"instId":"BTC-USDT","ordId":"999999"},{"instId":"BTC-USDT"}]"#
            let reply = try await h.order(body, as: trader.key, path: "/api/v5/trade/cancel-batch-orders")
            #expect(reply.code == "2", "\(reply.raw)")
            #expect(reply.data.map { $0["sCode"] as? String ?? "" } == ["0", "0", "51400", "50015"])
            #expect(reply.data[1]["clOrdId"] as? String == "ask1" && reply.data[0]["ordId"] as? String == bidID)
            #expect(try await h.available(trader.account, .trading, "USDT") == "10000")
            #expect(try await h.available(trader.account, .trading, "BTC") == "1")
            let none = try await h.order(body, as: trader.key, path: "/api/v5/trade/cancel-batch-orders")
            #expect(none.code == "1" && none.data.count == 4)
            let many = "[" + Array(repeating: #"{"instId":"BTC-USDT","ordId":"1"}"#, count: 21).joined(separator: ",") + "]"
            #expect(try await h.order(many, as: trader.key, path: "/api/v5/trade/cancel-batch-orders").code == "51000")
            #expect(try await h.order("[]", as: trader.key, path: "/api/v5/trade/cancel-batch-orders").code == "51000")
        }
    }

    /// An order that asks for an attached take-profit or stop-loss is refused, not placed without it.
    @Test
    func attachedAlgoOrdersAreRefusedNotDropped() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000")
            for extra in [#""attachAlgoOrds":[{"tpTriggerPx":"35000","tpOrdPx":"-1"}]"#, #""slTriggerPx":"25000""#] {
                let body = #"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"0.1","px":"30000",\#(extra)}"#
                let reply = try await h.order(body, as: trader.key)
                #expect(reply.data.first?["sCode"] as? String == "51000", "\(reply.raw)")
                #expect((reply.data.first?["sMsg"] as? String ?? "").contains("take-profit"))
            }
            #expect(try await h.available(trader.account, .trading, "USDT") == "10000")
            let plain = try await h.order(Self.limit("buy", sz: "0.1", px: "30000"), as: trader.key)
            #expect(plain.data.first?["sCode"] as? String == "0")
        }
    }

    /// A market sell sized in the quote currency sells until it has received that much, no more; an unknown tgtCcy
    /// is refused.
    @Test
    func aMarketSellSizedInQuoteSellsThatMuchWorth() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("maker001", usdt: "100000")
            let seller = try await h.trader("seller01", btc: "1")
            _ = try await h.order(Self.limit("buy", sz: "0.5", px: "30000"), as: maker.key)
            let sold = try await h.order(
                #"{"instId":"BTC-USDT","tdMode":"cash","side":"sell","ordType":"market","sz":"3000","tgtCcy":"quote_ccy"}"#, as: seller.key)
            let id = try #require(sold.data.first?["ordId"] as? String, "\(sold.raw)")
            #expect(try await h.available(seller.account, .trading, "BTC") == "0.9")
            #expect(try await h.available(seller.account, .trading, "USDT") == "2997")  // 3000 less the 0.1 % taker fee
            let order = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(id)", as: seller.key).data.first
            #expect(order?["sz"] as? String == "3000" && order?["tgtCcy"] as? String == "quote_ccy" && order?["accFillSz"] as? String == "0.1")
            #expect(order?["state"] as? String == "filled")
            let odd = try await h.order(
                #"{"instId":"BTC-USDT","tdMode":"cash","side":"sell","ordType":"market","sz":"1","tgtCcy":"usd"}"#, as: seller.key)
            #expect(odd.data.first?["sCode"] as? String == "51000")
            #expect(try await h.available(seller.account, .trading, "BTC") == "0.9")
        }
    }

    @Test
    func restingOrdersSurviveARestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "keysmith-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let clock = ManualClock()
        let first = try await TestBackend.open(dataDirectory: folder, clock: clock, logger: LogCollector().logger)
        _ = try await first.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: .test)
        let account = try await first.accounts.createSubAccount(SubAccountRequest(name: "maker001"), origin: .test)
        let key = try await first.keys.create(
            NewKeyRequest(account: account, label: "m", permissions: [.readOnly, .trade], allowlist: .empty), origin: .test).key
        _ = try await first.ledger.deposit(to: account, currency: "BTC", amount: "1", origin: .test)
        _ = try await first.ledger.transfer(TransferRequest(currency: "BTC", amount: "1", from: "6", to: "18"), by: account, origin: .test)
        let outcome = await first.engine.place(
            OrderRequest(instrument: "BTC-USDT", side: "sell", type: "limit", size: "0.4", price: "25000"), key: key, account: account,
            origin: .test)
        guard case .placed = outcome else { Issue.record("not placed: \(outcome)"); return }
        let second = try await TestBackend.open(dataDirectory: folder, clock: clock, logger: LogCollector().logger)
        let depth = try await second.engine.depth("BTC-USDT", levels: 5)
        #expect(depth.asks.map(\.0) == [250_000] && depth.asks.map(\.1) == [40_000_000])
    }
}
