import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// `trade/amend-order` and `amend-batch-orders`: an open order takes a new total size and/or price and keeps its id;
/// what it froze follows, a new price that crosses matches as the taker, and every refusal leaves the order and the
/// balances as they were (unless `cxlOnFail` asked for a cancel).
@Suite struct AmendOrderTests {
    typealias T = TradingTests
    typealias S = SwapTradingTests

    static func amend(_ fields: [String: Any]) -> String {
        var all = fields
        if all["instId"] == nil { all["instId"] = "BTC-USDT" }
        let data = try! JSONSerialization.data(withJSONObject: all, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func amendOrder(_ h: Harness, _ fields: [String: Any], as key: KeyCredentials) async throws -> OKXReply {
        try await h.order(amend(fields), as: key, path: "/api/v5/trade/amend-order")
    }

    static func field(_ reply: OKXReply, _ name: String) -> String? { reply.data.first?[name] as? String }

    static func order(_ h: Harness, _ id: String, as key: KeyCredentials, inst: String = "BTC-USDT") async throws -> [String: Any] {
        try #require(try await h.call(.get, "/api/v5/trade/order?instId=\(inst)&ordId=\(id)", as: key).data.first)
    }

    @Test
    func aSmallerSizeKeepsItsPlaceALargerOneOrANewPriceGoesToTheBackAndACrossingPriceTakes() async throws {
        try await Harness.run { h in
            let first = try await h.trader("amendfirst", usdt: "100000")
            let second = try await h.trader("amendsecond", usdt: "100000")
            let seller = try await h.trader("amendseller", btc: "1")
            let placed = try await h.order(T.limit("buy", sz: "0.5", px: "30000", clOrdId: "a1"), as: first.key)
            let id = try #require(Self.field(placed, "ordId"))
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.5", px: "30000"), as: second.key), "sCode") == "0")
            #expect(try await h.available(first.account, .trading) == "85000")

            // Down to 0.3 by clOrdId: 9000 USDT held, and still first in the queue at 30000.
            let smaller = try await Self.amendOrder(h, ["clOrdId": "a1", "newSz": "0.3", "reqId": "r1"], as: first.key)
            #expect(smaller.code == "0" && Self.field(smaller, "sCode") == "0", "\(smaller.raw)")
            #expect(Self.field(smaller, "ordId") == id && Self.field(smaller, "clOrdId") == "a1" && Self.field(smaller, "reqId") == "r1")
            #expect(try await h.available(first.account, .trading) == "91000")
            #expect(Self.field(try await h.order(T.limit("sell", sz: "0.1", px: "30000"), as: seller.key), "sCode") == "0")
            #expect(try await Self.order(h, id, as: first.key)["accFillSz"] as? String == "0.1")

            // Up to 0.6 (0.5 left to fill): 15000 held, and now behind the second buyer.
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.6"], as: first.key), "sCode") == "0")
            #expect(try await h.available(first.account, .trading) == "82000")  // 100000 − 3000 paid − 15000 held
            #expect(Self.field(try await h.order(T.limit("sell", sz: "0.1", px: "30000"), as: seller.key), "sCode") == "0")
            #expect(try await Self.order(h, id, as: first.key)["accFillSz"] as? String == "0.1")
            #expect(try await h.available(second.account, .trading, "BTC") == "0.09992")  // 0.1 less the 0.08 % maker fee

            // A lower price: 0.5 × 29000 held, the order on its own level.
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newPx": "29000"], as: first.key), "sCode") == "0")
            #expect(try await h.available(first.account, .trading) == "82500")
            let amended = try await Self.order(h, id, as: first.key)
            #expect(amended["px"] as? String == "29000" && amended["sz"] as? String == "0.6" && amended["state"] as? String == "partially_filled")
            #expect(amended["clOrdId"] as? String == "a1")
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT&sz=5", as: nil)
            #expect((book.data.first?["bids"] as? [[String]]) == [["30000", "0.4", "0", "1"], ["29000", "0.5", "0", "1"]])

            // A price that crosses an ask takes it at the ask's price (the taker's fee), and the rest rests at the new price.
            #expect(Self.field(try await h.order(T.limit("sell", sz: "0.2", px: "31000"), as: seller.key), "sCode") == "0")
            let crossing = try await Self.amendOrder(h, ["ordId": id, "newPx": "31500"], as: first.key)
            #expect(Self.field(crossing, "sCode") == "0", "\(crossing.raw)")
            let after = try await Self.order(h, id, as: first.key)
            #expect(after["accFillSz"] as? String == "0.3" && after["px"] as? String == "31500" && after["state"] as? String == "partially_filled")
            #expect(after["fillPx"] as? String == "31000" && after["fillSz"] as? String == "0.2")
            // 100000 − 3000 − 6200 paid − 0.3 × 31500 held; 0.09992 as maker and 0.1998 as taker received.
            #expect(try await h.available(first.account, .trading) == "81350")
            #expect(try await h.available(first.account, .trading, "BTC") == "0.29972")
            let fills = try await h.call(.get, "/api/v5/trade/fills?instId=BTC-USDT&ordId=\(id)", as: first.key)
            #expect(fills.data.first?["execType"] as? String == "T" && fills.data.first?["fillPx"] as? String == "31000")

            // A price that crosses an ask for all that is left: the order fills and leaves the book.
            #expect(Self.field(try await h.order(T.limit("sell", sz: "0.3", px: "32000"), as: seller.key), "sCode") == "0")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newPx": "32000"], as: first.key), "sCode") == "0")
            #expect(try await Self.order(h, id, as: first.key)["state"] as? String == "filled")
            let pending = try await h.call(.get, "/api/v5/trade/orders-pending?instId=BTC-USDT", as: first.key)
            #expect(pending.data.isEmpty)

            await h.auditWritten()
            let events = try await h.auditEvents(action: "POST /api/v5/trade/amend-order")
            #expect(events.count == 5)
            #expect(events.contains { $0.record.target == id && $0.record.details["reqId"] == "r1" && $0.record.details["newSz"] == "0.3" })
            try await h.expectBalancedBooks(deposited: ["USDT": 200_000_000_000, "BTC": 100_000_000])
        }
    }

    @Test
    func aRefusedAmendmentChangesNothingAndCxlOnFailCancels() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("amendrefused", usdt: "1000")
            let other = try await h.trader("amendother", usdt: "1000")
            let seller = try await h.trader("amendpostonly", btc: "1")
            let id = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: trader.key), "ordId"))
            let before = try await Self.order(h, id, as: trader.key)
            func unchanged() async throws {
                let now = try await Self.order(h, id, as: trader.key)
                #expect(now["sz"] as? String == before["sz"] as? String && now["px"] as? String == before["px"] as? String)
                #expect(now["state"] as? String == "live" && now["uTime"] as? String == before["uTime"] as? String)
                #expect(try await h.available(trader.account, .trading) == "700")
            }
            let refusals: [([String: Any], KeyCredentials, String)] = [
                (["ordId": id], trader.key, "51500"),
                (["ordId": "999999", "newSz": "0.02"], trader.key, "51503"),
                (["ordId": id, "newSz": "0.02"], other.key, "51503"),
                (["ordId": id, "newSz": "0.02", "instId": "ETH-USDT"], trader.key, "51503"),
                (["ordId": id, "newSz": "0.05"], trader.key, "51502"),  // 1500 USDT held, 1000 there
                (["ordId": id, "newSz": "0.000000001"], trader.key, "51000"),
                (["ordId": id, "newPx": "abc"], trader.key, "51000"),
                (["ordId": id, "newPx": "30000", "reqId": "not-alphanumeric"], trader.key, "51000"),
                (["ordId": id, "newPx": "30000", "cxlOnFail": "maybe"], trader.key, "51000"),
                (["ordId": id, "newPx": "30000", "newTpTriggerPx": "40000"], trader.key, "51000"),
            ]
            for (fields, key, code) in refusals {
                let reply = try await Self.amendOrder(h, fields, as: key)
                #expect(reply.code == "1" && Self.field(reply, "sCode") == code, "\(fields): \(reply.raw)")
                try await unchanged()
            }
            let named = try await Self.amendOrder(h, ["ordId": id, "newSz": "0.000000001"], as: trader.key)
            #expect(Self.field(named, "sMsg")?.contains("newSz") == true, "\(named.raw)")
            let read = try await h.installation.keys.create(
                NewKeyRequest(account: trader.account, label: "reader", permissions: [.readOnly], allowlist: .empty), origin: .test)
            let refusedKey = try await Self.amendOrder(h, ["ordId": id, "newSz": "0.02"], as: read.credentials)
            #expect(refusedKey.code == "50120", "\(refusedKey.raw)")
            try await unchanged()

            // A post_only order amended to a price that would take is refused (51511), and rests as it was.
            let post = try await h.order(T.limit("sell", sz: "0.01", px: "31000", type: "post_only"), as: seller.key)
            let postID = try #require(Self.field(post, "ordId"))
            let taking = try await Self.amendOrder(h, ["ordId": postID, "newPx": "30000"], as: seller.key)
            #expect(Self.field(taking, "sCode") == "51511", "\(taking.raw)")
            #expect(try await Self.order(h, postID, as: seller.key)["px"] as? String == "31000")
            try await unchanged()

            // cxlOnFail: the order the amendment could not change is cancelled, releasing its hold.
            let failed = try await Self.amendOrder(h, ["ordId": id, "newSz": "0.05", "cxlOnFail": true], as: trader.key)
            #expect(Self.field(failed, "sCode") == "51502" && Self.field(failed, "ordId") == id, "\(failed.raw)")
            #expect(try await Self.order(h, id, as: trader.key)["state"] as? String == "canceled")
            #expect(try await h.available(trader.account, .trading) == "1000")
            await h.auditWritten()
            let cancelEvents = try await h.auditEvents(action: "POST /api/v5/trade/amend-order").filter { $0.record.target == id }
            #expect(cancelEvents.contains { $0.record.details["canceled"] == "cxlOnFail" && $0.record.details["refusedWith"] == "51502" })
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.02"], as: trader.key), "sCode") == "51509")

            // A filled order: 51510.
            let filled = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "31000"), as: trader.key), "ordId"))
            #expect(try await Self.order(h, filled, as: trader.key)["state"] as? String == "filled")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": filled, "newSz": "0.02"], as: trader.key), "sCode") == "51510")
            // Size at or below what filled: 51000 newSz.
            let partial = try #require(Self.field(try await h.order(T.limit("sell", sz: "0.02", px: "32000"), as: seller.key), "ordId"))
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "32000"), as: other.key), "sCode") == "0")
            let tooSmall = try await Self.amendOrder(h, ["ordId": partial, "newSz": "0.01"], as: seller.key)
            #expect(Self.field(tooSmall, "sCode") == "51000" && Self.field(tooSmall, "sMsg")?.contains("newSz") == true, "\(tooSmall.raw)")
            try await h.expectBalancedBooks(deposited: ["USDT": 2_000_000_000, "BTC": 100_000_000])
        }
    }

    @Test
    func amendBatchOrdersAnswersForEachAndTakesAtMostTwenty() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("amendbatch", usdt: "10000")
            let a = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: trader.key), "ordId"))
            let b = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "29000"), as: trader.key), "ordId"))
            let body = "[" + [
                Self.amend(["ordId": a, "newPx": "29500", "reqId": "one"]), Self.amend(["ordId": "424242", "newPx": "1"]),
                Self.amend(["ordId": b, "newSz": "0.02", "reqId": "three"]),
            ].joined(separator: ",") + "]"
            let reply = try await h.order(body, as: trader.key, path: "/api/v5/trade/amend-batch-orders")
            #expect(reply.code == "2", "\(reply.raw)")
            #expect(reply.data.compactMap { $0["sCode"] as? String } == ["0", "51503", "0"])
            #expect(reply.data.compactMap { $0["reqId"] as? String } == ["one", "", "three"])
            #expect(try await Self.order(h, a, as: trader.key)["px"] as? String == "29500")
            #expect(try await Self.order(h, b, as: trader.key)["sz"] as? String == "0.02")
            #expect(try await h.available(trader.account, .trading) == "9125")  // 10000 − 295 − 580
            let many = "[" + Array(repeating: Self.amend(["ordId": a, "newPx": "29400"]), count: 21).joined(separator: ",") + "]"
            #expect(try await h.order(many, as: trader.key, path: "/api/v5/trade/amend-batch-orders").code == "51501")
            #expect(try await h.order("[]", as: trader.key, path: "/api/v5/trade/amend-batch-orders").code == "51000")
            #expect(try await Self.order(h, a, as: trader.key)["px"] as? String == "29500")
        }
    }

    @Test
    func anAmendmentCountsWhatItAddsTowardsTheKeysLimits() async throws {
        try await Harness.run { h in
            let limited = try await h.trader(
                "amendlimited", usdt: "100000", restrictions: try TradingRestrictions(instruments: nil, maxOrderUSDT: "400", maxDailyUSDT: "500"))
            let id = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: limited.key), "ordId"))
            // 0.02 × 30000 = 600 > the 400 per order.
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.02"], as: limited.key), "sCode") == "51000")
            // 0.013 × 30000 = 390: adds 90 to the day's 300.
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.013"], as: limited.key), "sCode") == "0")
            // Another 0.01 order (300) would take the day to 690 > 500.
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: limited.key), "sCode") == "51000")
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.003", px: "30000"), as: limited.key), "sCode") == "0")
        }
    }

    @Test
    func anAmendedOrdersPlaceInTheQueueSurvivesARestart() async throws {
        try await Harness.run { h in
            let first = try await h.trader("requeuefirst", usdt: "10000")
            let second = try await h.trader("requeuesecond", usdt: "10000")
            let seller = try await h.trader("requeueseller", btc: "1")
            let a = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: first.key), "ordId"))
            let b = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: second.key), "ordId"))
            let c = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.03", px: "30000"), as: second.key), "ordId"))
            // a goes behind b and c (a larger size); c stays ahead of a (a smaller size keeps its place).
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": a, "newSz": "0.02"], as: first.key), "sCode") == "0")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": c, "newSz": "0.02"], as: second.key), "sCode") == "0")
            let later = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: second.key), "ordId"))

            // A restart rebuilds the book from the store: b, c, a, then the later order.
            let reopened = try await TestBackend.open(dataDirectory: h.folder, clock: h.clock, logger: h.logs.logger)
            let key = try #require(h.installation.cache.key(seller.key.apiKey)).key
            let sell = OrderRequest(instrument: "BTC-USDT", side: "sell", type: "limit", size: "0.04", price: "30000")
            guard case .placed = await reopened.engine.place(sell, key: key, account: seller.account, origin: .test) else {
                Issue.record("the sell was refused")
                return
            }
            func filled(_ id: String) async throws -> Int64? { try await reopened.orders.order(id: Int64(id) ?? 0)?.filled }
            let (fb, fc, fa, fl) = (try await filled(b), try await filled(c), try await filled(a), try await filled(later))
            #expect(fb == 1_000_000 && fc == 2_000_000)
            #expect(fa == 1_000_000 && fl == 0, "a was first behind c, ahead of the later order")
            reopened.postgres?.close()
        }
    }

    @Test
    func aDailyLimitCountsWhatAnyAmendmentAddsOnTheDayOfTheAmendment() async throws {
        try await Harness.run { h in
            let open = try await h.trader("dailyshared", usdt: "100000")
            var request = NewKeyRequest(
                account: open.account, label: "limited", permissions: [.readOnly, .trade], allowlist: .empty, rateLimit: .unlimited)
            request.trading = try TradingRestrictions(instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: "500")
            let limited = (key: try await h.installation.keys.create(request, origin: .test).credentials, account: open.account)
            // Another key's order, amended by the limited key: the 480 it adds is the limited key's.
            let id = try #require(Self.field(try await h.order(T.limit("buy", sz: "0.01", px: "30000"), as: open.key), "ordId"))
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.026"], as: limited.key), "sCode") == "0")
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.001", px: "30000"), as: limited.key), "sCode") == "51000")
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.0006", px: "30000"), as: limited.key), "sCode") == "0")  // 18
            // An order of yesterday amended today counts today; lowering it gives nothing back.
            h.clock.advance(by: 86_400_000)
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.01"], as: limited.key), "sCode") == "0")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.026"], as: limited.key), "sCode") == "0")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.01"], as: limited.key), "sCode") == "0")
            #expect(Self.field(try await Self.amendOrder(h, ["ordId": id, "newSz": "0.011"], as: limited.key), "sCode") == "51000")
            #expect(Self.field(try await h.order(T.limit("buy", sz: "0.0006", px: "30000"), as: limited.key), "sCode") == "0")
        }
    }

    @Test
    func aSwapOrderIsAmendedWithEveryCheckAPlacementMakes() async throws {
        try await Harness.run { h in
            let long = try await h.trader("amendlong", usdt: "10000")
            let short = try await h.trader("amendshort", usdt: "10000")
            try await S.pin(h, "30000")
            let lever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"100","mgnMode":"cross"}"#, as: long.key)
            #expect(lever.code == "0", "\(lever.raw)")
            let placed = try await h.order(S.swap("buy", sz: "2", px: "29900"), as: long.key)
            let id = try #require(Self.field(placed, "ordId"), "\(placed.raw)")
            // 2 contracts at 29900, 100×: 5.98 margin and a 0.1196 maker-fee reserve.
            #expect(try await h.available(long.account, .trading) == "9993.9004")
            let swapOrder = { (fields: [String: Any]) async throws -> OKXReply in
                var all = fields
                all["instId"] = "BTC-USDT-SWAP"
                return try await Self.amendOrder(h, all, as: long.key)
            }
            // Beyond the price limit (5 % from the 30000 mark), and beyond the 100× tier's 1000 contracts.
            #expect(Self.field(try await swapOrder(["ordId": id, "newPx": "40000"]), "sCode") == "51006")
            #expect(Self.field(try await swapOrder(["ordId": id, "newSz": "1001"]), "sCode") == "51004")
            #expect(Self.field(try await swapOrder(["ordId": id, "newSz": "1000"]), "sCode") == "0")
            #expect(Self.field(try await swapOrder(["ordId": id, "newSz": "3"]), "sCode") == "0")
            #expect(try await h.available(long.account, .trading) == "9990.8506")  // 8.97 + 0.1794 for 3 contracts

            // A price that crosses a resting sell takes it: a long of 1 at 30100, the other 2 resting at 30100.
            #expect(S.sCode(try await h.order(S.swap("sell", sz: "1", px: "30100"), as: short.key)) == "0")
            let crossing = try await swapOrder(["ordId": id, "newPx": "30100"])
            #expect(Self.field(crossing, "sCode") == "0", "\(crossing.raw)")
            let positions = try await h.call(.get, "/api/v5/account/positions?instId=BTC-USDT-SWAP", as: long.key)
            #expect(positions.data.first?["pos"] as? String == "1" && positions.data.first?["avgPx"] as? String == "30100")
            let after = try await Self.order(h, id, as: long.key, inst: "BTC-USDT-SWAP")
            #expect(after["accFillSz"] as? String == "1" && after["sz"] as? String == "3" && after["px"] as? String == "30100")
            // 10000 − 3.01 margin − 0.1505 taker fee − (6.02 + 0.1204) held for the 2 left.
            #expect(try await h.available(long.account, .trading) == "9990.6991")

            // A reduce-only sell may not be amended beyond the one contract the position holds.
            let close = try await h.order(S.swap("sell", sz: "1", px: "31000", reduceOnly: true), as: long.key)
            let closeID = try #require(Self.field(close, "ordId"), "\(close.raw)")
            let beyond = try await swapOrder(["ordId": closeID, "newSz": "2"])
            #expect(Self.field(beyond, "sCode") == "51000", "\(beyond.raw)")
            #expect(Self.field(try await swapOrder(["ordId": closeID, "newPx": "30900"]), "sCode") == "0")
            #expect(try await Self.order(h, closeID, as: long.key, inst: "BTC-USDT-SWAP")["px"] as? String == "30900")
            // The mark moves 10 % away: the order's price is now beyond the limit, but an amendment of its size alone
            // is not refused for it, and a new price still is.
            try await S.pin(h, "34000")
            #expect(Self.field(try await swapOrder(["ordId": closeID, "newSz": "0.5"]), "sCode") == "0")
            #expect(Self.field(try await swapOrder(["ordId": closeID, "newPx": "30800"]), "sCode") == "51006")
            try await S.pin(h, "30000")

            for (trader, ids) in [(long, [id, closeID])] {
                for order in ids {
                    let reply = try await h.call(
                        .post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT-SWAP","ordId":"\#(order)"}"#, as: trader.key)
                    #expect(reply.code == "0", "\(reply.raw)")
                }
            }
            let frozen = try await h.ledger.balances(of: long.account).first { $0.kind == .trading && $0.currency == "USDT" }?.frozen
            #expect(frozen == 0)
            try await h.expectBalancedBooks(deposited: ["USDT": 20_000_000_000])
        }
    }
}
