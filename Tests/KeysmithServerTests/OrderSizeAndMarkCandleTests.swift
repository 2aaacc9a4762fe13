import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// `account/max-size` and `max-avail-size` (the most an order can be, counted as a placement freezes it), and the
/// mark price's candles (`market/mark-price-candles`) from the minutes the serving node records.
@Suite struct OrderSizeAndMarkCandleTests {
    typealias S = SwapTradingTests

    static func field(_ reply: OKXReply, _ name: String, at index: Int = 0) -> String? {
        reply.data.count > index ? reply.data[index][name] as? String : nil
    }

    /// The rows of a reply whose data are arrays (candles).
    static func rows(_ reply: OKXReply) -> [[String]] {
        let object = try? JSONSerialization.jsonObject(with: Data(reply.raw.utf8)) as? [String: Any]
        return object?["data"] as? [[String]] ?? []
    }

    @Test
    func theLargestSwapOrderReportedIsAcceptedAndOneLotMoreIsRefused() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("sizemaker", usdt: "20000")
            let first = try await h.trader("sizefirst", usdt: "10000")
            let second = try await h.trader("sizesecnd", usdt: "10000")
            try await S.pin(h, "30000")
            // At the mark, 10× and the taker rate a contract (0.01 BTC) holds 30 of margin and pays 0.15:
            // 33,167 lots of 0.01 cost 9999.8505 USDT, one more 10000.152.
            let sized = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=cross", as: first.key)
            #expect(Self.field(sized, "maxBuy") == "331.67" && Self.field(sized, "maxSell") == "331.67", "\(sized.raw)")
            #expect(Self.field(sized, "ccy") == "USDT" && Self.field(sized, "instId") == "BTC-USDT-SWAP")
            // At 5× (asked for) a contract holds 60; at a price of 20000 it holds 20 and pays 0.1.
            let levered = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=isolated&leverage=5", as: first.key)
            #expect(Self.field(levered, "maxBuy") == "166.25", "\(levered.raw)")
            let priced = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=cross&px=20000", as: first.key)
            #expect(Self.field(priced, "maxBuy") == "497.51", "\(priced.raw)")
            let available = try await h.call(.get, "/api/v5/account/max-avail-size?instId=BTC-USDT-SWAP&tdMode=cross", as: first.key)
            #expect(Self.field(available, "availBuy") == "10000" && Self.field(available, "availSell") == "10000", "\(available.raw)")

            #expect(S.sCode(try await h.order(S.swap("sell", sz: "400", px: "30000"), as: maker.key)) == "0")
            let over = try await h.order(S.swap("buy", sz: "331.68"), as: second.key)
            #expect(S.sCode(over) == "51008", "\(over.raw)")
            #expect(try await h.available(second.account, .trading) == "10000")
            let exact = try await h.order(S.swap("buy", sz: "331.67"), as: first.key)
            #expect(S.sCode(exact) == "0", "\(exact.raw)")
            #expect(try await h.available(first.account, .trading) == "0.1495")
            let none = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=cross", as: first.key)
            #expect(Self.field(none, "maxBuy") == "0", "\(none.raw)")
        }
    }

    @Test
    func aPositionStaysWithinTheTierItsLeverageAllows() async throws {
        try await Harness.run { h in
            let maker = try await h.trader("tiermaker", usdt: "1000000")
            let trader = try await h.trader("tiertrade", usdt: "10000")
            try await S.pin(h, "30000")
            let lever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"100","mgnMode":"cross"}"#, as: trader.key)
            #expect(lever.code == "0", "\(lever.raw)")
            // At 100× a BTC-USDT-SWAP position holds at most tier 1's 1,000 contracts, whatever the margin allows.
            let sized = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=cross", as: trader.key)
            #expect(Self.field(sized, "maxBuy") == "1000", "\(sized.raw)")
            let atFiveX = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=cross&leverage=75", as: trader.key)
            #expect(Self.field(atFiveX, "maxBuy") == "2000", "\(atFiveX.raw)")
            #expect(S.sCode(try await h.order(S.swap("sell", sz: "1500", px: "30000"), as: maker.key)) == "0")
            let above = try await h.order(S.swap("buy", sz: "1000.01"), as: trader.key)
            #expect(S.sCode(above) == "51004", "\(above.raw)")
            #expect((above.data.first?["sMsg"] as? String)?.contains("100x") == true)
            #expect(try await h.available(trader.account, .trading) == "10000")
            // A resting order counts too: 600 resting and 500 more would be 1,100.
            #expect(S.sCode(try await h.order(S.swap("buy", sz: "600", px: "29000"), as: trader.key)) == "0")
            #expect(S.sCode(try await h.order(S.swap("buy", sz: "500"), as: trader.key)) == "51004")
            #expect(S.sCode(try await h.order(S.swap("buy", sz: "400"), as: trader.key)) == "0")
            #expect(S.sCode(try await h.order(S.swap("buy", sz: "0.01"), as: trader.key)) == "51004")
            // Closing is never refused for size: a sell of the whole 400 (and beyond, turning it over) is a close first.
            #expect(S.sCode(try await h.order(S.swap("sell", sz: "400", reduceOnly: true), as: trader.key)) != "51004")
        }
    }

    @Test
    func eachLegOfALongShortAccountCountsAtItsOwnLeverage() async throws {
        try await Harness.run { h in
            let hedger = try await h.trader("sizehedge", usdt: "1000")
            try await S.pin(h, "30000")
            let mode = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: hedger.key)
            #expect(mode.code == "0", "\(mode.raw)")
            let lever = try await h.call(
                .post, "/api/v5/account/set-leverage", body: #"{"instId":"BTC-USDT-SWAP","lever":"20","mgnMode":"isolated","posSide":"long"}"#,
                as: hedger.key)
            #expect(lever.code == "0", "\(lever.raw)")
            // Long at 20×: 15 + 0.15 a contract; short at the default 10×: 30 + 0.15.
            let sized = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT-SWAP&tdMode=isolated", as: hedger.key)
            #expect(Self.field(sized, "maxBuy") == "66", "\(sized.raw)")
            #expect(Self.field(sized, "maxSell") == "33.16", "\(sized.raw)")
        }
    }

    @Test
    func spotSizesAreInTheBaseToBuyAndTheQuoteToSell() async throws {
        try await Harness.run { h in
            let book = try await h.trader("sizebook1", usdt: "100000", btc: "10")
            let trader = try await h.trader("sizespot1", usdt: "1000", btc: "0.5")
            #expect(try await h.order(TradingTests.limit("sell", sz: "1", px: "30000"), as: book.key).code == "0")
            #expect(try await h.order(TradingTests.limit("buy", sz: "1", px: "29000"), as: book.key).code == "0")
            // 1000 USDT buys 0.03333333 BTC at the best ask; 0.5 BTC sells for 14500 USDT at the best bid.
            let sized = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT&tdMode=cash", as: trader.key)
            #expect(Self.field(sized, "maxBuy") == "0.03333333" && Self.field(sized, "maxSell") == "14500", "\(sized.raw)")
            #expect(Self.field(sized, "ccy") == "BTC")
            let priced = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT&tdMode=cash&px=25000", as: trader.key)
            #expect(Self.field(priced, "maxBuy") == "0.04" && Self.field(priced, "maxSell") == "12500", "\(priced.raw)")
            let available = try await h.call(.get, "/api/v5/account/max-avail-size?instId=BTC-USDT&tdMode=cash", as: trader.key)
            #expect(Self.field(available, "availBuy") == "1000" && Self.field(available, "availSell") == "0.5", "\(available.raw)")
            // Less than the minimum order (0.00001 BTC) is no order: 0.2 USDT buys 0.00000666 BTC, so 0.
            let poor = try await h.trader("sizespot2", usdt: "0.2")
            let below = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT&tdMode=cash", as: poor.key)
            #expect(Self.field(below, "maxBuy") == "0", "\(below.raw)")
            // python-okx sends every parameter, empty ones as "".
            let empty = try await h.call(
                .get, "/api/v5/account/max-avail-size?instId=BTC-USDT&tdMode=cash&ccy=&reduceOnly=&unSpotOffset=&quickMgnType=", as: trader.key)
            #expect(empty.code == "0", "\(empty.raw)")

            // The largest buy reported rests; a lot more does not.
            let over = try await h.order(TradingTests.limit("buy", sz: "0.04000001", px: "25000"), as: trader.key)
            #expect(S.sCode(over) == "51008", "\(over.raw)")
            #expect(S.sCode(try await h.order(TradingTests.limit("buy", sz: "0.04", px: "25000"), as: trader.key)) == "0")

            for (query, code) in [
                ("instId=BTC-USDT&tdMode=cross", "51000"), ("instId=BTC-USDT", "50014"), ("tdMode=cash", "50014"),
                ("instId=BTC-USDT,BTC-USDT-SWAP&tdMode=cash", "51000"), ("instId=NOPE-USDT&tdMode=cash", "51001"),
                ("instId=BTC-USDT,BTC-USDT,BTC-USDT,BTC-USDT,BTC-USDT,BTC-USDT&tdMode=cash", "51000"),
                ("instId=BTC-USDT&tdMode=cash&px=-1", "51000"), ("instId=BTC-USDT-SWAP&tdMode=cash", "51000"),
                ("instId=BTC-USDT-SWAP&tdMode=cross&leverage=1000", "59102"),
            ] {
                let refused = try await h.call(.get, "/api/v5/account/max-size?\(query)", as: trader.key)
                #expect(refused.code == code, "\(query): \(refused.raw)")
            }
            let unsigned = try await h.call(.get, "/api/v5/account/max-size?instId=BTC-USDT&tdMode=cash", as: nil)
            #expect(unsigned.code == "50113" || unsigned.code == "50103", "\(unsigned.raw)")
        }
    }

    @Test
    func markCandlesAggregateTheMinutesTheServerRecorded() async throws {
        try await Harness.run { h in
            let logger = h.logs.logger
            // Start on a 5-minute boundary so the expected bars are plain arithmetic.
            h.clock.advance(by: 300_000 - h.clock.milliseconds % 300_000)
            let first = h.clock.milliseconds
            for (price, step) in [("30000", Int64(10_000)), ("30500", 10_000), ("29800", 10_000)] {
                try await S.pin(h, price)
                await h.installation.marks.record(logger: logger)
                h.clock.advance(by: step)
            }
            // The next minute opens at the mark it starts with (whoever records it first: this test or the serving
            // node's every-second recording), then moves.
            h.clock.advance(by: 60_000)
            await h.installation.marks.record(logger: logger)
            try await S.pin(h, "30100")
            await h.installation.marks.record(logger: logger)
            let second = first + 60_000

            let path = "/api/v5/market/mark-price-candles?instId=BTC-USDT-SWAP"
            let minutes = try await h.call(.get, path, as: nil)
            #expect(minutes.code == "0", "\(minutes.raw)")
            let rows = Self.rows(minutes)
            let expected: [[String]] = [
                [String(second), "29800", "30100", "29800", "30100", "0"], [String(first), "30000", "30500", "29800", "29800", "1"],
            ]
            #expect(rows == expected, "\(minutes.raw)")
            let bar = try await h.call(.get, path + "&bar=5m", as: nil)
            #expect(Self.rows(bar) == [[String(first), "30000", "30500", "29800", "30100", "0"]], "\(bar.raw)")
            let older = try await h.call(.get, path + "&after=\(second)", as: nil)
            #expect(Self.rows(older) == [expected[1]], "\(older.raw)")
            let newer = try await h.call(.get, path + "&before=\(first)", as: nil)
            #expect(Self.rows(newer) == [expected[0]], "\(newer.raw)")
            let one = try await h.call(.get, path + "&limit=1", as: nil)
            #expect(Self.rows(one) == [expected[0]], "\(one.raw)")
            let history = try await h.call(.get, "/api/v5/market/history-mark-price-candles?instId=BTC-USDT-SWAP&bar=1Dutc", as: nil)
            #expect(Self.rows(history).count == 1, "\(history.raw)")

            for (query, code) in [
                ("instId=BTC-USDT", "51000"), ("instId=BTC-USDT-SWAP&bar=7m", "51000"), ("instId=BTC-USDT-SWAP&after=soon", "51000"),
                ("instId=BTC-USDT-SWAP&after=99999999999999999999", "51000"), ("bar=1m", "50014"), ("instId=NOPE-USDT-SWAP", "51001"),
            ] {
                let refused = try await h.call(.get, "/api/v5/market/mark-price-candles?\(query)", as: nil)
                #expect(refused.code == code, "\(query): \(refused.raw)")
            }
            // Times at the edges answer (nothing before 1970, nothing after now) instead of failing.
            for query in ["after=1", "after=9223372036854775807&bar=3M", "before=9223372036854775807", "after=0&bar=1W"] {
                let edge = try await h.call(.get, path + "&" + query, as: nil)
                #expect(edge.code == "0", "\(query): \(edge.raw)")
            }
        }
    }
}
