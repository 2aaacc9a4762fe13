import Foundation
import KeysmithCore
import Testing

/// `account/max-withdrawal` and `asset/asset-valuation`, checked against the balances they come from.
@Suite struct AccountValuationTests {
    @Test
    func maximumWithdrawalIsWhatTheTradingAccountHasAvailable() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "1000", btc: "0.5")
            _ = try await h.order(TradingTests.limit("buy", sz: "0.01", px: "20000"), as: trader.key)  // freezes 200 USDT
            let all = try await h.call(.get, "/api/v5/account/max-withdrawal", as: trader.key)
            let byCurrency = Dictionary(uniqueKeysWithValues: all.data.compactMap { item in
                (item["ccy"] as? String).map { ($0, item["maxWd"] as? String ?? "") }
            })
            #expect(byCurrency == ["USDT": "800", "BTC": "0.5"], "\(all.raw)")
            let one = try await h.call(.get, "/api/v5/account/max-withdrawal?ccy=usdt,ETH", as: trader.key)
            #expect(one.data.map { $0["ccy"] as? String } == ["USDT", "ETH"] && one.data.map { $0["maxWd"] as? String } == ["800", "0"])
            #expect(try await h.call(.get, "/api/v5/account/max-withdrawal?ccy=NOPE", as: trader.key).code == "51000")
        }
    }

    @Test
    func valuationAddsFundingAndTradingAtTheLastPrices() async throws {
        try await Harness.run { h in
            try await h.waiveFees()
            let seller = try await h.trader("seller01", btc: "1")
            let trader = try await h.trader("trader01", usdt: "10000")
            try await h.deposit("500", "USDT", to: trader.account)  // funding
            _ = try await h.order(TradingTests.limit("sell", sz: "0.1", px: "30000"), as: seller.key)
            _ = try await h.order(TradingTests.limit("buy", sz: "0.1", px: "30000"), as: trader.key)
            // Trading: 7000 USDT + 0.1 BTC at 30000 = 10000; funding 500.
            let usdt = try await h.call(.get, "/api/v5/asset/asset-valuation?ccy=USDT", as: trader.key)
            let item = try #require(usdt.data.first)
            #expect(item["totalBal"] as? String == "10500", "\(usdt.raw)")
            let details = try #require(item["details"] as? [String: Any])
            #expect(details["trading"] as? String == "10000" && details["funding"] as? String == "500" && details["earn"] as? String == "0")
            // In BTC (the default) at 30000: 10500 / 30000 = 0.35.
            let btc = try await h.call(.get, "/api/v5/asset/asset-valuation", as: trader.key)
            #expect(btc.data.first?["totalBal"] as? String == "0.35")
            #expect(try await h.call(.get, "/api/v5/asset/asset-valuation?ccy=EUR", as: trader.key).code == "51000")
        }
    }

    @Test
    func bitcoinCountsExactlyInABitcoinValuation() async throws {
        try await Harness.run { h in
            try await h.waiveFees()
            let seller = try await h.trader("seller01", btc: "1")
            let trader = try await h.trader("trader01", usdt: "10000", btc: "1.00000001")
            _ = try await h.order(TradingTests.limit("sell", sz: "0.001", px: "30000.1"), as: seller.key)
            _ = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "30000.1"), as: trader.key)
            // 1.00100001 BTC held exactly, plus 9969.9999 USDT / 30000.1 = 0.33233222… BTC, rounded down.
            let btc = try await h.call(.get, "/api/v5/asset/asset-valuation?ccy=BTC", as: trader.key)
            #expect(btc.data.first?["totalBal"] as? String == "1.33333223", "\(btc.raw)")
        }
    }
}
