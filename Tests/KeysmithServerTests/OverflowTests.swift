import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Numbers from clients reach arithmetic only in overflow-checked forms. Each case here once trapped (a crash of every
/// connection) or let a limit slip; now it answers a parameter error and the server keeps serving.
@Suite struct OverflowTests {
    static func market(_ side: String, sz: String, instId: String = "BTC-USDT", tgtCcy: String? = nil) -> String {
        let target = tgtCcy.map { #","tgtCcy":"\#($0)""# } ?? ""
        return #"{"instId":"\#(instId)","tdMode":"cash","side":"\#(side)","ordType":"market","sz":"\#(sz)"\#(target)}"#
    }

    static func sCode(_ reply: OKXReply) -> String? { reply.data.first?["sCode"] as? String }

    /// The server still answers a public and a signed request.
    static func expectServing(_ h: Harness, as key: KeyCredentials, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let time = try await h.call(.get, "/api/v5/public/time", as: nil)
        #expect(time.code == "0", "\(time.raw)", sourceLocation: sourceLocation)
        h.clock.advance(by: 1)
        let balance = try await h.call(.get, "/api/v5/account/balance", as: key)
        #expect(balance.code == "0", "\(balance.raw)", sourceLocation: sourceLocation)
    }

    // MARK: - Orders

    @Test
    func aQuoteSizedBuyOfTheLargestSizeAgainstADailyLimitIsAParameterError() async throws {
        try await Harness.run { h in
            let limits = try TradingRestrictions(instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: "1000")
            let trader = try await h.trader("daily001", usdt: "100", restrictions: limits)
            // Something spent today, so that the day's total is not zero.
            let bid = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "10000"), as: trader.key)
            #expect(Self.sCode(bid) == "0", "\(bid.raw)")
            let huge = try await h.order(Self.market("buy", sz: "9223372036854.775807"), as: trader.key)
            #expect(huge.code == "1" && Self.sCode(huge) == "51000", "\(huge.raw)")
            #expect(try await h.available(trader.account, .trading, "USDT") == "90")
            try await Self.expectServing(h, as: trader.key)
        }
    }

    @Test
    func aMarketBuyAcrossAsksWorthMoreThanSixtyFourBitsIsAParameterError() async throws {
        try await Harness.run { h in
            // Two small asks at an absurd price: each is worth 6 × 10^18 USDT units, together more than 64 bits hold.
            let seller = try await h.trader("seller01", btc: "0.00002")
            for _ in 0..<2 {
                let ask = try await h.order(TradingTests.limit("sell", sz: "0.00001", px: "600000000000000000"), as: seller.key)
                #expect(Self.sCode(ask) == "0", "\(ask.raw)")
            }
            let buyer = try await h.trader("buyer001", usdt: "1000")
            let take = try await h.order(Self.market("buy", sz: "0.00002", tgtCcy: "base_ccy"), as: buyer.key)
            #expect(take.code == "1" && Self.sCode(take) == "51000", "\(take.raw)")
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT&sz=5", as: nil)
            #expect((book.data.first?["asks"] as? [[String]])?.first == ["600000000000000000", "0.00002", "0", "2"], "\(book.raw)")
            try await Self.expectServing(h, as: buyer.key)
        }
    }

    @Test
    func aLimitOrderWorthMoreThanSixtyFourBitsIsRefusedRatherThanCountedAsNothing() async throws {
        try await Harness.run { h in
            let limits = try TradingRestrictions(instruments: nil, maxOrderUSDT: "1000", maxDailyUSDT: nil)
            let seller = try await h.trader("seller01", btc: "1", restrictions: limits)
            let ask = try await h.order(TradingTests.limit("sell", sz: "1", px: "922337203685477580.7"), as: seller.key)
            #expect(ask.code == "1" && Self.sCode(ask) == "51000", "\(ask.raw)")
            #expect(try await h.available(seller.account, .trading, "BTC") == "1")
            try await Self.expectServing(h, as: seller.key)
        }
    }

    @Test
    func spendingLimitsWithMoreDecimalsThanTheQuoteCurrencyStillApply() async throws {
        try await Harness.run { h in
            // USDT has 6 decimals; a limit may have 8. Such a limit used to be skipped as unreadable.
            let perOrder = try TradingRestrictions(instruments: nil, maxOrderUSDT: "10.00000001", maxDailyUSDT: nil)
            let daily = try TradingRestrictions(instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: "15.00000001")
            let first = try await h.trader("limit001", usdt: "100", restrictions: perOrder)
            let second = try await h.trader("limit002", usdt: "100", restrictions: daily)
            let big = try await h.order(TradingTests.limit("buy", sz: "0.002", px: "10000"), as: first.key)  // 20 USDT
            #expect(Self.sCode(big) == "51000", "\(big.raw)")
            let small = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "10000"), as: first.key)  // 10 USDT
            #expect(Self.sCode(small) == "0", "\(small.raw)")
            let today = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "10000"), as: second.key)
            #expect(Self.sCode(today) == "0", "\(today.raw)")
            let over = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "10000"), as: second.key)  // 20 in the day
            #expect(Self.sCode(over) == "51000", "\(over.raw)")
        }
    }

    @Test
    func aQuoteSizedBuyOnAFinelyTickedInstrumentDoesNotTrap() async throws {
        try await Harness.run { h in
            // 18 price decimals + 8 size decimals − 6 quote decimals: the budget is the quote size × 10^20.
            func amount(_ text: String, _ scale: Int) throws -> Amount { try #require(Amount(parsing: text, scale: scale)) }
            try await h.ledger.save(
                Instrument(
                    id: "OKB-USDT", base: "OKB", quote: "USDT", tickSize: try amount("0.000000000000000001", 18),
                    lotSize: try amount("0.00000001", 8), minimumSize: try amount("0.00000001", 8),
                    maximumLimitSize: try amount("1000", 8), maximumMarketSize: try amount("1000", 8), listedAt: 0))
            let buyer = try await h.trader("buyer001", usdt: "100")
            let reply = try await h.order(Self.market("buy", sz: "9223372036854.775807", instId: "OKB-USDT"), as: buyer.key)
            // Nothing rests on the book: the order is placed and cancelled at once, as any market buy with no ask.
            #expect(reply.code == "0" && Self.sCode(reply) == "0", "\(reply.raw)")
            #expect(try await h.available(buyer.account, .trading, "USDT") == "100")
            try await Self.expectServing(h, as: buyer.key)
        }
    }

    // MARK: - Market data

    @Test
    func tradedVolumesAddUpBeyondSixtyFourBits() async throws {
        try await Harness.run { h in
            // Ten fills of the largest limit size (9 999 999 999 BTC at 0.1 USDT) in one minute: 99 999 999 990 BTC is
            // more units than 64 bits hold.
            // Each trader sells back all it bought, so no fee may take a part of it.
            try await h.waiveFees()
            var maker = try await h.trader("whale001", usdt: "1000000000", btc: "9999999999")
            var taker = try await h.trader("whale002", usdt: "1000000000")
            for _ in 0..<10 {
                let ask = try await h.order(TradingTests.limit("sell", sz: "9999999999", px: "0.1"), as: maker.key)
                #expect(Self.sCode(ask) == "0", "\(ask.raw)")
                let bid = try await h.order(TradingTests.limit("buy", sz: "9999999999", px: "0.1"), as: taker.key)
                #expect(Self.sCode(bid) == "0", "\(bid.raw)")
                swap(&maker, &taker)
            }
            let ticker = try await h.call(.get, "/api/v5/market/ticker?instId=BTC-USDT", as: nil)
            #expect(ticker.code == "0" && ticker.data.first?["vol24h"] as? String == "99999999990", "\(ticker.raw)")
            #expect(ticker.data.first?["volCcy24h"] as? String == "9999999999", "\(ticker.raw)")
            let candles = try await h.call(.get, "/api/v5/market/candles?instId=BTC-USDT", as: nil)
            #expect(candles.code == "0" && candles.raw.contains(#""99999999990","9999999999","9999999999""#), "\(candles.raw)")
        }
    }

    @Test
    func bookDepthAddsUpBeyondSixtyFourBits() async throws {
        try await Harness.run { h in
            // Ten asks of 9 999 999 999 BTC at one price, from two accounts (one balance cannot hold them all).
            for name in ["whale001", "whale002"] {
                let seller = try await h.trader(name, btc: "49999999995")
                for _ in 0..<5 {
                    let ask = try await h.order(TradingTests.limit("sell", sz: "9999999999", px: "100"), as: seller.key)
                    #expect(Self.sCode(ask) == "0", "\(ask.raw)")
                }
            }
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT&sz=5", as: nil)
            #expect((book.data.first?["asks"] as? [[String]])?.first == ["100", "99999999990", "0", "10"], "\(book.raw)")
            let ticker = try await h.call(.get, "/api/v5/market/ticker?instId=BTC-USDT", as: nil)
            #expect(ticker.data.first?["askSz"] as? String == "99999999990", "\(ticker.raw)")
        }
    }

    // MARK: - Balances

    @Test
    func aMovementThatWouldOverflowABalanceIsRefusedAndTheBalanceStaysReadable() async throws {
        try await Harness.run { h in
            let master = try await h.installation.accounts.master()
            try await h.deposit("9223372036854.775807", to: master)  // the largest USDT balance there is
            do {
                try await h.deposit("0.000001", to: master)
                Issue.record("a deposit past the largest balance was accepted")
            } catch let error as OKXError {
                #expect(error.code == "51000", "\(error)")
            }
            let sub = try await h.existingOrNewSubAccount("bot01trader")
            try await h.deposit("1", to: sub)
            let key = try await h.subAccountKey("bot01trader")
            let transfer = try await h.call(
                .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"1","from":"6","to":"6","type":"3"}"#, as: key)
            #expect(transfer.code == "51000", "\(transfer.raw)")
            #expect(try await h.available(sub, .funding) == "1")
            #expect(try await h.available(master, .funding) == "9223372036854.775807")
            let funding = try await h.call(.get, "/api/v5/asset/balances?ccy=USDT", as: h.master)
            #expect(funding.data.first?["availBal"] as? String == "9223372036854.775807", "\(funding.raw)")
            try await Self.expectServing(h, as: key)
        }
    }

    @Test
    func theConsoleAnswersADepositPastTheLargestBalanceOnItsPageAndAddsUpTotals() async throws {
        try await ConsoleOperationsTests.signedIn { h, browser, _ in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            _ = try await browser.get("/console/balances")
            for account in ["master", "bot01trader"] {
                let deposited = try await browser.post("/console/deposits", ["account": account, "ccy": "USDT", "amount": "9223372036854.775807"])
                #expect(deposited.status == 303, "\(deposited.html)")
            }
            let refused = try await browser.post("/console/deposits", ["account": "master", "ccy": "USDT", "amount": "1"])
            #expect(refused.status == 400 && refused.html.contains("field-error"), "\(refused.html)")
            #expect(try await browser.get("/console/balances").html.contains("9223372036854.775807"))
            // The dashboard's totals over both accounts: twice the largest balance.
            let dashboard = try await browser.get("/console")
            #expect(dashboard.status == 200 && dashboard.html.contains("18446744073709.551614"))
        }
    }

    // MARK: - Withdrawals

    static let address = "0xkeysmithOverflowTestAddress0001"

    /// A currency with 18 decimals, in which 9.3 whole coins already fill 64 bits: fee 0.5, at most 9 per withdrawal
    /// and 9.2 per day. The master's funding balance holds 9.2.
    static func fineCurrency(_ h: Harness) async throws {
        func amount(_ text: String) throws -> Amount { try #require(Amount(parsing: text, scale: 18)) }
        try await h.ledger.save(
            Currency(
                code: "WEI", name: "Wei", scale: 18, chain: "WEI-ERC20", withdrawalFee: try amount("0.5"), minimumWithdrawal: try amount("0"),
                maximumWithdrawal: try amount("9"), dailyWithdrawalLimit: try amount("9.2")))
        let master = try await h.installation.accounts.master()
        try await h.deposit("9.2", "WEI", to: master)
        _ = try await h.installation.withdrawals.addAddress(Self.address, label: "cold", currency: "WEI", for: master, origin: .test)
    }

    static func withdrawal(_ amount: String) -> String {
        #"{"ccy":"WEI","amt":"\#(amount)","dest":"4","toAddr":"\#(address)"}"#
    }

    @Test
    func aWithdrawalWhoseAmountAndFeeDoNotFitIsAboveTheMaximum() async throws {
        try await Harness.run { h in
            try await Self.fineCurrency(h)
            let reply = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawal("9"), as: h.master)
            #expect(reply.code == "58205", "\(reply.raw)")
            #expect(try await h.available(try await h.installation.accounts.master(), .funding, "WEI") == "9.2")
            try await Self.expectServing(h, as: h.master)
        }
    }

    @Test
    func aDaysWithdrawalsThatDoNotFitTogetherAreAboveTheDailyLimit() async throws {
        try await Harness.run { h in
            try await Self.fineCurrency(h)
            let first = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawal("8.7"), as: h.master)
            #expect(first.code == "0", "\(first.raw)")
            h.clock.advance(by: 1)
            let second = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawal("8.7"), as: h.master)
            #expect(second.code == "58201", "\(second.raw)")
            try await Self.expectServing(h, as: h.master)
        }
    }

    // MARK: - Keys

    @Test
    func aConsoleRotationWithAGracePeriodBeyondThirtyDaysIsRefusedOnAPage() async throws {
        try await ConsoleOperationsTests.signedIn { h, browser, _ in
            let key = try await h.subAccountKey()
            let account = try await h.installation.accounts.subAccount(named: "bot01trader")
            _ = try await browser.get("/console/keys")
            for grace in ["9223372036854775807", "721", "-1", "soon"] {
                let refused = try await browser.post("/console/keys/\(key.apiKey)/rotate", ["grace": grace])
                #expect(refused.status == 400 && refused.html.contains("grace period"), "\(grace): \(refused.status)")
            }
            #expect(try await h.installation.keys.keys(of: account).count == 1)
            let keys = try await browser.get("/console/keys")
            #expect(keys.status == 200 && keys.html.contains(key.apiKey))
            let rotated = try await browser.post("/console/keys/\(key.apiKey)/rotate", ["grace": "720"])
            #expect(rotated.status == 200)
        }
    }

    @Test
    func rotatingAKeyLabelledWithTheLastGenerationStartsASuffixOfItsOwn() async throws {
        try await Harness.run { h in
            // Labels are the caller's text: a key created over the API may carry any generation number.
            let account = try await h.existingOrNewSubAccount("bot01trader")
            let created = try await h.installation.keys.create(
                NewKeyRequest(account: account, label: "bot-r9223372036854775807", permissions: [.readOnly, .trade]), origin: .test)
            let rotated = try await h.installation.keys.rotate(apiKey: created.key.apiKey, grace: 0, origin: .test)
            #expect(rotated.key.label == "bot-r9223372036854775807-r2")
            let again = try await h.installation.keys.rotate(apiKey: rotated.key.apiKey, grace: 0, origin: .test)
            #expect(again.key.label == "bot-r9223372036854775807-r3")
        }
    }

    // MARK: - Alerts

    @Test(arguments: ["t=-9223372036854775808,v1=00", "t=9223372036854775807,v1=00"])
    func aWebhookSignatureWithAnExtremeTimeIsInvalid(_ header: String) {
        #expect(!WebhookSignature.isValid(header: header, body: [], secret: "whsec_x", now: -1_000))
        #expect(!WebhookSignature.isValid(header: header, body: [], secret: "whsec_x", now: 1_700_000_000))
    }

    @Test
    func alertRetryDelaysSaturateInsteadOfWrapping() {
        // A hundred years doubled 29 times does not fit 64 bits: the wait stays long instead of wrapping to 1 ms.
        let century: Int64 = 36_500 * 86_400_000
        let policy = AlertDeliveryWorker.Policy(baseDelayMilliseconds: century, maximumDelayMilliseconds: .max)
        for attempts in [1, 20, 30, 1_000] {
            #expect(policy.delay(afterAttempts: attempts) >= century / 2, "\(attempts)")
        }
    }
}
