import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// What bots read back after trading: exact average and fill prices, and OKX's filters and paging on fills and
/// order listings.
@Suite struct TradeListingTests {
    static func limit(_ side: String, sz: String, px: String, type: String = "limit") -> String {
        TradingTests.limit(side, sz: sz, px: px, type: type)
    }

    @Test
    func averagePriceIsTheFillPriceToTheLastDigit() async throws {
        try await Harness.run { h in
            let seller = try await h.trader("seller01", btc: "1")
            let buyer = try await h.trader("buyer001", usdt: "100000")
            // One fill of 0.00166583 BTC at 30015: its quote amount rounds to 49.999887 USDT, its prices must not.
            _ = try await h.order(Self.limit("sell", sz: "0.00166583", px: "30015"), as: seller.key)
            let buy = try await h.order(Self.limit("buy", sz: "0.00166583", px: "30015"), as: buyer.key)
            let buyID = try #require(buy.data.first?["ordId"] as? String)
            let bought = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(buyID)", as: buyer.key)
            #expect(bought.data.first?["avgPx"] as? String == "30015", "\(bought.raw)")
            #expect(bought.data.first?["accFillSz"] as? String == "0.00166583")
            let fill = try await h.call(.get, "/api/v5/trade/fills?ordId=\(buyID)", as: buyer.key)
            #expect(fill.data.count == 1)
            #expect(fill.data.first?["fillPx"] as? String == "30015" && fill.data.first?["fillSz"] as? String == "0.00166583")
            // A sell filled at 29985 against a resting bid.
            _ = try await h.order(Self.limit("buy", sz: "0.00166583", px: "29985"), as: buyer.key)
            let sell = try await h.order(Self.limit("sell", sz: "0.00166583", px: "29985"), as: seller.key)
            let sellID = try #require(sell.data.first?["ordId"] as? String)
            let sold = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(sellID)", as: seller.key)
            #expect(sold.data.first?["avgPx"] as? String == "29985", "\(sold.raw)")
            // Across several prices the average is by size: 0.1 at 30000 and 0.3 at 30001 → 30000.75.
            _ = try await h.order(Self.limit("sell", sz: "0.1", px: "30000"), as: seller.key)
            _ = try await h.order(Self.limit("sell", sz: "0.3", px: "30001"), as: seller.key)
            let sweep = try await h.order(Self.limit("buy", sz: "0.4", px: "30001"), as: buyer.key)
            let sweepID = try #require(sweep.data.first?["ordId"] as? String)
            let swept = try await h.call(.get, "/api/v5/trade/order?instId=BTC-USDT&ordId=\(sweepID)", as: buyer.key)
            #expect(swept.data.first?["avgPx"] as? String == "30000.75", "\(swept.raw)")
            let sweepFills = try await h.call(.get, "/api/v5/trade/fills?ordId=\(sweepID)", as: buyer.key)
            #expect(sweepFills.data.compactMap { $0["fillPx"] as? String }.sorted() == ["30000", "30001"])
        }
    }

    @Test
    func fillsFilterByOrderAndPageWithOKXsCursors() async throws {
        try await Harness.run { h in
            let seller = try await h.trader("seller01", btc: "1")
            let buyer = try await h.trader("buyer001", usdt: "100000")
            for _ in 0..<3 { _ = try await h.order(Self.limit("sell", sz: "0.1", px: "30000"), as: seller.key) }
            let first = try #require(try await h.order(Self.limit("buy", sz: "0.2", px: "30000"), as: buyer.key).data.first?["ordId"] as? String)
            let second = try #require(try await h.order(Self.limit("buy", sz: "0.1", px: "30000"), as: buyer.key).data.first?["ordId"] as? String)

            let all = try await h.call(.get, "/api/v5/trade/fills", as: buyer.key)
            let bills = all.data.compactMap { $0["billId"] as? String }
            #expect(bills.count == 3 && bills == bills.sorted { Int64($0)! > Int64($1)! }, "newest first: \(all.raw)")
            let ofFirst = try await h.call(.get, "/api/v5/trade/fills?ordId=\(first)", as: buyer.key)
            #expect(ofFirst.data.count == 2 && ofFirst.data.allSatisfy { $0["ordId"] as? String == first })
            let ofSecond = try await h.call(.get, "/api/v5/trade/fills?instType=SPOT&instId=BTC-USDT&ordId=\(second)", as: buyer.key)
            #expect(ofSecond.data.count == 1 && ofSecond.data.first?["ordId"] as? String == second)
            // The maker side of the same fills.
            let sellerFills = try await h.call(.get, "/api/v5/trade/fills", as: seller.key)
            #expect(sellerFills.data.count == 3 && sellerFills.data.allSatisfy { $0["execType"] as? String == "M" })
            #expect(try await h.call(.get, "/api/v5/trade/fills?ordId=\(first)", as: seller.key).data.isEmpty, "not the seller's order")

            // after: older than the bill; before: the ones just newer; limit.
            let newest = try await h.call(.get, "/api/v5/trade/fills?limit=1", as: buyer.key)
            #expect(newest.data.compactMap { $0["billId"] as? String } == [bills[0]])
            let older = try await h.call(.get, "/api/v5/trade/fills?after=\(bills[0])", as: buyer.key)
            #expect(older.data.compactMap { $0["billId"] as? String } == Array(bills[1...]))
            let newer = try await h.call(.get, "/api/v5/trade/fills?before=\(bills[2])&limit=1", as: buyer.key)
            #expect(newer.data.compactMap { $0["billId"] as? String } == [bills[1]])
            let between = try await h.call(.get, "/api/v5/trade/fills?after=\(bills[0])&before=\(bills[2])", as: buyer.key)
            #expect(between.data.compactMap { $0["billId"] as? String } == [bills[1]])
            // begin / end bound the fill time.
            let firstTime = try #require(ofFirst.data.first?["ts"] as? String)
            let early = try await h.call(.get, "/api/v5/trade/fills?end=\(firstTime)", as: buyer.key)
            #expect(Set(early.data.compactMap { $0["ordId"] as? String }) == [first])
            let late = try await h.call(.get, "/api/v5/trade/fills?begin=\(Int64(firstTime)! + 1)", as: buyer.key)
            #expect(late.data.compactMap { $0["ordId"] as? String } == [second])

            // Malformed cursors are refused with the parameter named; instType is required on fills-history.
            let bad = try await h.call(.get, "/api/v5/trade/fills?after=12x", as: buyer.key)
            #expect(bad.code == "51000" && bad.msg.contains("after"))
            #expect(try await h.call(.get, "/api/v5/trade/fills?ordId=-1", as: buyer.key).code == "51000")
            // A limit above OKX's maximum answers the maximum, as OKX does; zero or text is refused.
            #expect(try await h.call(.get, "/api/v5/trade/fills?limit=101", as: buyer.key).data.count == 3)
            #expect(try await h.call(.get, "/api/v5/trade/fills?limit=99999999999999999999999", as: buyer.key).data.count == 3)
            #expect(try await h.call(.get, "/api/v5/trade/fills?limit=0", as: buyer.key).code == "51000")
            #expect(try await h.call(.get, "/api/v5/trade/fills?limit=ten", as: buyer.key).code == "51000")
            #expect(try await h.call(.get, "/api/v5/trade/fills-history", as: buyer.key).code == "50014")
            #expect(try await h.call(.get, "/api/v5/trade/fills-history?instType=SWAP", as: buyer.key).data.isEmpty)
            let history = try await h.call(.get, "/api/v5/trade/fills-history?instType=SPOT&ordId=\(first)", as: buyer.key)
            #expect(history.data.count == 2)

            // fills reaches back 3 days, fills-history 3 months.
            h.clock.advance(by: 4 * 86_400_000)
            #expect(try await h.call(.get, "/api/v5/trade/fills", as: buyer.key).data.isEmpty)
            #expect(try await h.call(.get, "/api/v5/trade/fills-history?instType=SPOT", as: buyer.key).data.count == 3)
            h.clock.advance(by: 90 * 86_400_000)
            #expect(try await h.call(.get, "/api/v5/trade/fills-history?instType=SPOT", as: buyer.key).data.isEmpty)
        }
    }

    @Test
    func aFillBetweenTwoOfTheCallersOwnOrdersIsListedFromTheSideAskedFor() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000", btc: "1")
            let ask = try #require(try await h.order(Self.limit("sell", sz: "0.1", px: "30000"), as: trader.key).data.first?["ordId"] as? String)
            let bid = try #require(try await h.order(Self.limit("buy", sz: "0.1", px: "30000"), as: trader.key).data.first?["ordId"] as? String)
            let asMaker = try await h.call(.get, "/api/v5/trade/fills?ordId=\(ask)", as: trader.key)
            #expect(asMaker.data.count == 1 && asMaker.data.first?["ordId"] as? String == ask, "\(asMaker.raw)")
            #expect(asMaker.data.first?["side"] as? String == "sell" && asMaker.data.first?["execType"] as? String == "M")
            let asTaker = try await h.call(.get, "/api/v5/trade/fills?ordId=\(bid)", as: trader.key)
            #expect(asTaker.data.first?["ordId"] as? String == bid && asTaker.data.first?["execType"] as? String == "T")
        }
    }

    @Test
    func listingsReachBackToTheirEdgeInclusive() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000")
            let id = try #require(try await h.order(Self.limit("buy", sz: "0.1", px: "20000"), as: trader.key).data.first?["ordId"] as? String)
            let placedAt = h.clock.milliseconds
            h.clock.advance(by: 1)
            _ = try await h.call(.post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT","ordId":"\#(id)"}"#, as: trader.key)
            // Exactly 7 days after it was placed the order is still in orders-history; a millisecond later it is not.
            h.clock.advance(by: placedAt + 7 * 86_400_000 - h.clock.milliseconds)
            #expect(try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT", as: trader.key).data.count == 1)
            h.clock.advance(by: 1)
            #expect(try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT", as: trader.key).data.isEmpty)
            #expect(try await h.call(.get, "/api/v5/trade/orders-history-archive?instType=SPOT", as: trader.key).data.count == 1)
        }
    }

    @Test
    func orderListingsFilterByTypeStateAndTime() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "100000", btc: "1")
            let other = try await h.trader("other001", btc: "1")
            let resting = try #require(try await h.order(Self.limit("buy", sz: "0.1", px: "20000"), as: trader.key).data.first?["ordId"] as? String)
            let posted = try #require(
                try await h.order(Self.limit("buy", sz: "0.1", px: "20001", type: "post_only"), as: trader.key).data.first?["ordId"] as? String)
            _ = try await h.order(Self.limit("sell", sz: "0.05", px: "20001"), as: other.key)  // part-fills the post_only bid

            let pending = try await h.call(.get, "/api/v5/trade/orders-pending", as: trader.key)
            #expect(pending.data.compactMap { $0["ordId"] as? String } == [posted, resting])
            let postOnly = try await h.call(.get, "/api/v5/trade/orders-pending?ordType=post_only", as: trader.key)
            #expect(postOnly.data.compactMap { $0["ordId"] as? String } == [posted])
            let partly = try await h.call(.get, "/api/v5/trade/orders-pending?state=partially_filled", as: trader.key)
            #expect(partly.data.compactMap { $0["ordId"] as? String } == [posted])
            let older = try await h.call(.get, "/api/v5/trade/orders-pending?after=\(posted)", as: trader.key)
            #expect(older.data.compactMap { $0["ordId"] as? String } == [resting])
            #expect(try await h.call(.get, "/api/v5/trade/orders-pending?state=filled", as: trader.key).code == "51000")
            #expect(try await h.call(.get, "/api/v5/trade/orders-pending?ordType=stop", as: trader.key).code == "51000")

            // Closed orders: a cancelled one and a filled one, in history (7 days) and its archive (3 months).
            h.clock.advance(by: 1)
            _ = try await h.call(.post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT","ordId":"\#(resting)"}"#, as: trader.key)
            _ = try await h.order(Self.limit("sell", sz: "0.05", px: "20001"), as: other.key)  // fills the rest of the bid
            #expect(try await h.call(.get, "/api/v5/trade/orders-history", as: trader.key).code == "50014")
            let history = try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT", as: trader.key)
            #expect(history.data.compactMap { $0["ordId"] as? String } == [posted, resting], "\(history.raw)")
            #expect(history.data.compactMap { $0["state"] as? String } == ["filled", "canceled"])
            #expect(history.data.first?["avgPx"] as? String == "20001" && history.data.first?["accFillSz"] as? String == "0.1")
            let canceled = try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT&state=canceled", as: trader.key)
            #expect(canceled.data.compactMap { $0["ordId"] as? String } == [resting])
            #expect(try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT&state=live", as: trader.key).code == "51000")
            h.clock.advance(by: 8 * 86_400_000)
            #expect(try await h.call(.get, "/api/v5/trade/orders-history?instType=SPOT", as: trader.key).data.isEmpty)
            let archive = try await h.call(.get, "/api/v5/trade/orders-history-archive?instType=SPOT", as: trader.key)
            #expect(archive.data.count == 2)
            #expect(try await h.call(.get, "/api/v5/trade/orders-history-archive", as: trader.key).code == "50014")
        }
    }

    @Test
    func publicTradesAnswerTheMaximumAndPageBackwards() async throws {
        try await Harness.run { h in
            let seller = try await h.trader("seller01", btc: "1")
            let buyer = try await h.trader("buyer001", usdt: "100000")
            for price in ["30000", "30001", "30002"] {
                _ = try await h.order(Self.limit("sell", sz: "0.1", px: price), as: seller.key)
                _ = try await h.order(Self.limit("buy", sz: "0.1", px: price), as: buyer.key)
            }
            // Above OKX's maximum (500) the maximum answers, as OKX does, rather than an error.
            let all = try await h.call(.get, "/api/v5/market/trades?instId=BTC-USDT&limit=1000", as: nil)
            #expect(all.code == "0" && all.data.compactMap { $0["px"] as? String } == ["30002", "30001", "30000"], "\(all.raw)")
            #expect(try await h.call(.get, "/api/v5/market/trades?instId=BTC-USDT&limit=2", as: nil).data.count == 2)
            #expect(try await h.call(.get, "/api/v5/market/trades?instId=BTC-USDT&limit=-1", as: nil).code == "51000")
            let ids = all.data.compactMap { $0["tradeId"] as? String }
            let times = all.data.compactMap { $0["ts"] as? String }
            // history-trades pages by trade id (type 1, the default) or by time (type 2).
            let older = try await h.call(.get, "/api/v5/market/history-trades?instId=BTC-USDT&after=\(ids[0])", as: nil)
            #expect(older.data.compactMap { $0["tradeId"] as? String } == Array(ids[1...]))
            let newer = try await h.call(.get, "/api/v5/market/history-trades?instId=BTC-USDT&before=\(ids[2])&limit=1", as: nil)
            #expect(newer.data.compactMap { $0["tradeId"] as? String } == [ids[1]])
            let byTime = try await h.call(.get, "/api/v5/market/history-trades?instId=BTC-USDT&type=2&after=\(times[1])", as: nil)
            #expect(byTime.data.compactMap { $0["tradeId"] as? String } == [ids[2]])
            #expect(try await h.call(.get, "/api/v5/market/history-trades?instId=BTC-USDT&type=3", as: nil).code == "51000")
            #expect(try await h.call(.get, "/api/v5/market/history-trades?instId=BTC-USDT&limit=500", as: nil).data.count == 3)
        }
    }
}
