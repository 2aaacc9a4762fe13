import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Perpetual swaps as listed instruments, and the account settings that decide how they trade: account and
/// position modes, leverage, position tiers.
@Suite struct SwapSettingsTests {
    static func swapOrder(side: String = "buy", tdMode: String = "cross", posSide: String? = nil) -> String {
        let position = posSide.map { #","posSide":"\#($0)""# } ?? ""
        return #"{"instId":"BTC-USDT-SWAP","tdMode":"\#(tdMode)","side":"\#(side)","ordType":"limit","sz":"1","px":"30000"\#(position)}"#
    }

    @Test
    func swapsAreListedWithOKXsContractTermsApartFromSpot() async throws {
        try await Harness.run { h in
            let swaps = try await h.call(.get, "/api/v5/public/instruments?instType=SWAP", as: nil)
            #expect(swaps.code == "0" && swaps.data.count == 2, "\(swaps.raw)")
            let btc = try #require(swaps.data.first { $0["instId"] as? String == "BTC-USDT-SWAP" })
            let expected: [String: String] = [
                "instType": "SWAP", "uly": "BTC-USDT", "instFamily": "BTC-USDT", "settleCcy": "USDT", "ctVal": "0.01", "ctMult": "1",
                "ctValCcy": "BTC", "ctType": "linear", "tickSz": "0.1", "lotSz": "0.01", "minSz": "0.01", "maxMktSz": "35000",
                "lever": "100", "state": "live", "baseCcy": "", "quoteCcy": "", "listTime": "1573557408000",
            ]
            for (field, value) in expected { #expect(btc[field] as? String == value, "\(field) in \(swaps.raw)") }
            let eth = try #require(swaps.data.first { $0["instId"] as? String == "ETH-USDT-SWAP" })
            #expect(eth["ctVal"] as? String == "0.1" && eth["tickSz"] as? String == "0.01" && eth["maxMktSz"] as? String == "90000")
            let family = try await h.call(.get, "/api/v5/public/instruments?instType=SWAP&instFamily=ETH-USDT", as: nil)
            #expect(family.data.map { $0["instId"] as? String } == ["ETH-USDT-SWAP"])
            let spot = try await h.call(.get, "/api/v5/public/instruments?instType=SPOT", as: nil)
            #expect(Set(spot.data.compactMap { $0["instId"] as? String }) == ["BTC-USDT", "ETH-USDT"])
            let futures = try await h.call(.get, "/api/v5/public/instruments?instType=FUTURES", as: nil)
            #expect(futures.code == "0" && futures.data.isEmpty)
            let tickers = try await h.call(.get, "/api/v5/market/tickers?instType=SWAP", as: nil)
            #expect(Set(tickers.data.compactMap { $0["instId"] as? String }) == ["BTC-USDT-SWAP", "ETH-USDT-SWAP"])
            #expect(tickers.data.allSatisfy { $0["instType"] as? String == "SWAP" })
            let spotTickers = try await h.call(.get, "/api/v5/market/tickers?instType=SPOT", as: nil)
            #expect(spotTickers.data.allSatisfy { $0["instType"] as? String == "SPOT" } && spotTickers.data.count == 2)
            let book = try await h.call(.get, "/api/v5/market/books?instId=BTC-USDT-SWAP", as: nil)
            #expect(book.code == "0")
        }
    }

    @Test
    func aSpotModeAccountCannotOrderSwapsAndPosSideFollowsThePositionMode() async throws {
        try await Harness.run { h in
            let spotAccount = try await h.installation.accounts.createSubAccount(
                SubAccountRequest(name: "spotonly1", level: .spot), origin: .test)
            let spotKey = try await h.installation.keys.create(
                NewKeyRequest(account: spotAccount, label: "bot", permissions: [.readOnly, .trade], allowlist: .empty, rateLimit: .unlimited),
                origin: .test
            ).credentials
            let refused = try await h.order(Self.swapOrder(), as: spotKey)
            #expect(refused.code == "1" && refused.data.first?["sCode"] as? String == "51010", "\(refused.raw)")

            let key = try await h.subAccountKey("futures01")
            let wrongSide = try await h.order(Self.swapOrder(posSide: "long"), as: key)
            #expect(wrongSide.data.first?["sCode"] as? String == "51000", "\(wrongSide.raw)")
            #expect((wrongSide.data.first?["sMsg"] as? String)?.hasPrefix("Parameter posSide error") == true)
            let cash = try await h.order(Self.swapOrder(tdMode: "cash"), as: key)
            #expect(cash.data.first?["sCode"] as? String == "51000" && (cash.data.first?["sMsg"] as? String)?.contains("tdMode") == true)

            // Hedge mode: posSide is required on every order, at once on this node.
            let switched = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: key)
            #expect(switched.code == "0" && switched.data.first?["posMode"] as? String == "long_short_mode", "\(switched.raw)")
            let config = try await h.call(.get, "/api/v5/account/config", as: key)
            #expect(config.data.first?["posMode"] as? String == "long_short_mode")
            for posSide in [nil, "net"] {
                let missing = try await h.order(Self.swapOrder(posSide: posSide), as: key)
                #expect(missing.data.first?["sCode"] as? String == "51000", "\(missing.raw)")
                #expect((missing.data.first?["sMsg"] as? String)?.contains("long_short_mode") == true)
            }
            let bad = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"hedge"}"#, as: key)
            #expect(bad.code == "51000")

            // Back to spot mode: SWAP orders are refused; then futures again.
            let level = try await h.call(.post, "/api/v5/account/set-account-level", body: #"{"acctLv":"1"}"#, as: key)
            #expect(level.code == "0" && level.data.first?["acctLv"] as? String == "1", "\(level.raw)")
            let inSpot = try await h.order(Self.swapOrder(posSide: "long"), as: key)
            #expect(inSpot.data.first?["sCode"] as? String == "51010")
            let levelConfig = try await h.call(.get, "/api/v5/account/config", as: key)
            #expect(levelConfig.data.first?["acctLv"] as? String == "1")
            _ = try await h.call(.post, "/api/v5/account/set-account-level", body: #"{"acctLv":"2"}"#, as: key)
            let badLevel = try await h.call(.post, "/api/v5/account/set-account-level", body: #"{"acctLv":"9"}"#, as: key)
            #expect(badLevel.code == "51000")

            // A read-only key changes no setting.
            let reader = try await h.subAccountKey("futures01", permissions: [.readOnly])
            let denied = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"net_mode"}"#, as: reader)
            #expect(denied.code == OKXError.keyLacksPermission.code)
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).data.first?["posMode"] as? String == "long_short_mode")
            let audited = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter {
                $0.record.action == "POST /api/v5/account/set-position-mode" && !$0.record.failed
            }
            #expect(audited.map { $0.record.details["posMode"] } == ["long_short_mode"], "\(audited)")
        }
    }

    @Test
    func aKeyTradesOnlyTheProductsAndInstrumentsItIsScopedTo() async throws {
        try await Harness.run { h in
            let spotOnly = try await h.trader("scoped01", usdt: "1000", restrictions: try TradingRestrictions(
                instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: nil, products: "spot"))
            let swapOnly = try await h.trader("scoped02", usdt: "1000", restrictions: try TradingRestrictions(
                instruments: "ETH-USDT-SWAP", maxOrderUSDT: nil, maxDailyUSDT: nil, products: "SWAP"))
            #expect(swapOnly.key.apiKey != spotOnly.key.apiKey)
            let swapBySpotKey = try await h.order(Self.swapOrder(), as: spotOnly.key)
            #expect(swapBySpotKey.data.first?["sCode"] as? String == OKXError.keyLacksPermission.code, "\(swapBySpotKey.raw)")
            let spotBySwapKey = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "30000"), as: swapOnly.key)
            #expect(spotBySwapKey.data.first?["sCode"] as? String == OKXError.keyLacksPermission.code, "\(spotBySwapKey.raw)")
            #expect((spotBySwapKey.data.first?["sMsg"] as? String)?.contains("SPOT") == true)
            // Its own product, but not its instrument.
            let otherSwap = try await h.order(Self.swapOrder(), as: swapOnly.key)
            #expect(otherSwap.data.first?["sCode"] as? String == OKXError.keyLacksPermission.code, "\(otherSwap.raw)")
            #expect(try await h.available(swapOnly.account, .trading, "USDT") == "1000")
            let spot = try await h.order(TradingTests.limit("buy", sz: "0.001", px: "30000"), as: spotOnly.key)
            #expect(spot.data.first?["sCode"] as? String == "0", "\(spot.raw)")
            let shown = try await h.call(.get, "/api/v5/users/self/apikey", as: swapOnly.key)
            #expect(shown.data.first?["products"] as? String == "swap" && shown.data.first?["instruments"] as? String == "ETH-USDT-SWAP")
            #expect(throws: OKXError.self) { try TradingRestrictions(instruments: nil, maxOrderUSDT: nil, maxDailyUSDT: nil, products: "futures") }
        }
    }

    @Test
    func leverageIsSetPerInstrumentMarginModeAndSide() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey("futures02")
            func set(_ body: String) async throws -> OKXReply {
                // Inside the key's request rate: one request every 200 ms.
                h.clock.advance(by: 200)
                return try await h.call(.post, "/api/v5/account/set-leverage", body: body, as: key)
            }
            let cross = try await set(#"{"instId":"BTC-USDT-SWAP","lever":"5","mgnMode":"cross","posSide":""}"#)
            #expect(cross.code == "0", "\(cross.raw)")
            #expect(cross.data.first?["lever"] as? String == "5" && cross.data.first?["posSide"] as? String == "")
            let info = try await h.call(.get, "/api/v5/account/leverage-info?instId=BTC-USDT-SWAP,ETH-USDT-SWAP&mgnMode=cross", as: key)
            #expect(info.data.map { $0["lever"] as? String } == ["5", "10"], "\(info.raw)")
            #expect(info.data.first?["posSide"] as? String == "net")
            // freqtrade through ccxt: isolated, posSide net, lever as a JSON number.
            let number = try await set(#"{"instId":"BTC-USDT-SWAP","lever":3.0,"mgnMode":"isolated","posSide":"net"}"#)
            #expect(number.code == "0" && number.data.first?["lever"] as? String == "3", "\(number.raw)")
            let isolated = try await h.call(
                .get, "/api/v5/account/leverage-info?instId=BTC-USDT-SWAP&mgnMode=isolated&posSide=net", as: key)
            #expect(isolated.data.first?["lever"] as? String == "3")
            // Refusals, top-level, changing nothing.
            let refusals: [(String, String)] = [
                (#"{"instId":"BTC-USDT-SWAP","lever":"5","mgnMode":"isolated","posSide":"long"}"#, "51000"),
                (#"{"instId":"BTC-USDT-SWAP","lever":"101","mgnMode":"cross"}"#, "59102"),
                (#"{"instId":"BTC-USDT-SWAP","lever":"0.5","mgnMode":"cross"}"#, "59105"),
                (#"{"instId":"BTC-USDT-SWAP","lever":"2.555","mgnMode":"cross"}"#, "51000"),
                (#"{"instId":"BTC-USDT-SWAP","lever":"5","mgnMode":"cash"}"#, "51000"),
                (#"{"instId":"BTC-USDT","lever":"5","mgnMode":"cross"}"#, "51000"),
                (#"{"instId":"DOGE-USDT-SWAP","lever":"5","mgnMode":"cross"}"#, "51001"),
                (#"{"instId":"BTC-USDT-SWAP","mgnMode":"cross"}"#, "50014"),
            ]
            for (body, code) in refusals {
                let reply = try await set(body)
                #expect(reply.code == code && reply.data.isEmpty, "\(body): \(reply.raw)")
            }
            let unchanged = try await h.call(.get, "/api/v5/account/leverage-info?instId=BTC-USDT-SWAP&mgnMode=cross", as: key)
            #expect(unchanged.data.first?["lever"] as? String == "5")

            // Hedge mode: isolated leverage per side, posSide required.
            _ = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: key)
            let noSide = try await set(#"{"instId":"ETH-USDT-SWAP","lever":"7","mgnMode":"isolated"}"#)
            #expect(noSide.code == "51000")
            let long = try await set(#"{"instId":"ETH-USDT-SWAP","lever":"7.5","mgnMode":"isolated","posSide":"long"}"#)
            #expect(long.code == "0" && long.data.first?["posSide"] as? String == "long", "\(long.raw)")
            let sides = try await h.call(.get, "/api/v5/account/leverage-info?instId=ETH-USDT-SWAP&mgnMode=isolated", as: key)
            #expect(sides.data.map { "\($0["posSide"] ?? "") \($0["lever"] ?? "")" } == ["long 7.5", "short 10"], "\(sides.raw)")
            // Another account's settings are its own.
            let other = try await h.subAccountKey("futures03")
            let fresh = try await h.call(.get, "/api/v5/account/leverage-info?instId=BTC-USDT-SWAP&mgnMode=cross", as: other)
            #expect(fresh.data.first?["lever"] as? String == "10")
        }
    }

    @Test
    func positionTiersListContractsAndMarginRates() async throws {
        try await Harness.run { h in
            let tiers = try await h.call(.get, "/api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily=BTC-USDT", as: nil)
            #expect(tiers.code == "0" && tiers.data.count == 10, "\(tiers.raw)")
            let first = try #require(tiers.data.first)
            for (field, value) in ["tier": "1", "minSz": "0", "maxSz": "1000", "imr": "0.01", "mmr": "0.004", "maxLever": "100",
                "instFamily": "BTC-USDT", "uly": "BTC-USDT", "instId": ""] {
                #expect(first[field] as? String == value, "\(field)")
            }
            // Bands follow one another, and margin rates rise as leverage falls.
            for (lower, upper) in zip(tiers.data, tiers.data.dropFirst()) {
                #expect(lower["maxSz"] as? String == upper["minSz"] as? String)
                #expect(Double(lower["mmr"] as? String ?? "") ?? 1 < Double(upper["mmr"] as? String ?? "") ?? 0)
            }
            let both = try await h.call(
                .get, "/api/v5/public/position-tiers?instType=SWAP&tdMode=isolated&instFamily=BTC-USDT,ETH-USDT&tier=1", as: nil)
            #expect(both.data.map { $0["maxSz"] as? String } == ["1000", "5000"])
            for (query, code) in [
                ("instType=SWAP&tdMode=cross", "50014"), ("instType=SWAP&tdMode=cross&instFamily=DOGE-USDT", "51000"),
                ("instType=SWAP&tdMode=cash&instFamily=BTC-USDT", "51000"), ("instType=SWAP&instFamily=BTC-USDT", "50014"),
            ] {
                let reply = try await h.call(.get, "/api/v5/public/position-tiers?\(query)", as: nil)
                #expect(reply.code == code, "\(query): \(reply.raw)")
            }
        }
    }
}

@Suite struct MarkPriceTests {
    @Test
    func theMarkFollowsTheSpotMidUnlessTheOperatorPinsIt() async throws {
        try await Harness.run { h in
            func mark(_ id: String = "BTC-USDT-SWAP") async throws -> String? {
                let reply = try await h.call(.get, "/api/v5/public/mark-price?instType=SWAP&instId=\(id)", as: nil)
                #expect(reply.code == "0" && reply.data.first?["instType"] as? String == "SWAP", "\(reply.raw)")
                return reply.data.first?["markPx"] as? String
            }
            // No book, no trade, no pin: no mark yet.
            #expect(try await mark() == "")
            try await h.waiveFees()
            let seller = try await h.trader("markseller", btc: "1")
            let buyer = try await h.trader("markbuyer1", usdt: "100000")
            _ = try await h.order(TradingTests.limit("sell", sz: "0.1", px: "30001.1"), as: seller.key)
            _ = try await h.order(TradingTests.limit("buy", sz: "0.1", px: "29990"), as: buyer.key)
            // The mid of 29990 and 30001.1, rounded down to the swap's tick.
            #expect(try await mark() == "29995.5")
            // Pinned: the pin, at once on this node; a price off the tick is refused and changes nothing.
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            try await h.installation.marks.pin(swap, at: "25000", origin: .test)
            #expect(try await mark() == "25000")
            await #expect(throws: OKXError.self) { try await h.installation.marks.pin(swap, at: "25000.05", origin: .test) }
            await #expect(throws: OKXError.self) { try await h.installation.marks.pin(swap, at: "-1", origin: .test) }
            let spot = try await h.installation.engine.instrument("BTC-USDT")
            await #expect(throws: OKXError.self) { try await h.installation.marks.pin(spot, at: "25000", origin: .test) }
            #expect(try await mark() == "25000")
            let all = try await h.call(.get, "/api/v5/public/mark-price?instType=SWAP", as: nil)
            #expect(all.data.count == 2 && all.data.contains { $0["instId"] as? String == "ETH-USDT-SWAP" && $0["markPx"] as? String == "" })
            // Released: the index again; after the book empties on one side, the last trade.
            try await h.installation.marks.pin(swap, at: nil, origin: .test)
            #expect(try await mark() == "29995.5")
            _ = try await h.order(TradingTests.limit("buy", sz: "0.1", px: "30001.1"), as: buyer.key)
            #expect(try await mark() == "30001.1")
            let unknown = try await h.call(.get, "/api/v5/public/mark-price?instType=SWAP&instId=DOGE-USDT-SWAP", as: nil)
            #expect(unknown.code == "51001")
            let margin = try await h.call(.get, "/api/v5/public/mark-price?instType=MARGIN", as: nil)
            #expect(margin.code == "0" && margin.data.isEmpty)
            let pins = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter { $0.record.target == "BTC-USDT-SWAP" }
            #expect(pins.map { $0.record.details["markPx"] } == ["25000", ""])
        }
    }
}
