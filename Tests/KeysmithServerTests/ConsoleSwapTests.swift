import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Testing

@Suite struct ConsoleSwapTests {
    @Test
    func anOperatorPinsAndReleasesAMarkPriceFromTheConsole() async throws {
        try await ConsoleTests.withConsole { h, browser in
            #expect(try await browser.get("/console/swaps").location == "/console/login")
            try await browser.signIn(ConsoleTests.email, ConsoleTests.password)
            let listed = try await browser.get("/console/swaps")
            #expect(listed.status == 200 && listed.html.contains("swap-BTC-USDT-SWAP") && listed.html.contains("swap-ETH-USDT-SWAP"))
            #expect(listed.html.contains("0.01 BTC") && listed.html.contains("100×"))
            let pinned = try await browser.post("/console/swaps/BTC-USDT-SWAP/mark", ["px": "25000.5"])
            #expect(pinned.location == "/console/swaps", "\(pinned.html)")
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            #expect(try await h.installation.marks.mark(of: swap)?.text == "25000.5")
            let shown = try await browser.get("/console/swaps")
            #expect(shown.html.contains("25000.5 <span class=\"muted\">(pinned)</span>") && shown.html.contains("pinned at 25000.5"))
            // Off the tick: refused on the page, nothing changes.
            let refused = try await browser.post("/console/swaps/BTC-USDT-SWAP/mark", ["px": "25000.55"])
            #expect(refused.status == 400 && refused.html.contains("multiple of 0.1"))
            #expect(try await h.installation.marks.mark(of: swap)?.text == "25000.5")
            // Without the form's CSRF token: nothing changes.
            let forged = try await browser.post("/console/swaps/BTC-USDT-SWAP/mark", ["clear": "1"], csrf: false)
            #expect(forged.status >= 400)
            #expect(h.installation.marks.pinned["BTC-USDT-SWAP"] == "25000.5")
            let released = try await browser.post("/console/swaps/BTC-USDT-SWAP/mark", ["clear": "1"])
            #expect(released.location == "/console/swaps")
            #expect(h.installation.marks.pinned["BTC-USDT-SWAP"] == nil)
            let audited = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter { $0.record.target == "BTC-USDT-SWAP" }
            #expect(audited.map { $0.record.details["markPx"] } == ["25000.5", ""])
            #expect(audited.allSatisfy { $0.record.actor.hasPrefix("console:") })
        }
    }

    @Test
    func anOperatorSeesEveryOpenPositionAndSettlesFundingNow() async throws {
        try await ConsoleTests.withConsole { h, browser in
            let long = try await h.trader("consolelong", usdt: "10000")
            let short = try await h.trader("consoleshrt", usdt: "10000")
            try await SwapTradingTests.pin(h, "30000")
            try await SwapTradingTests.open(h, long: long.key, short: short.key, sz: "2")
            try await SwapTradingTests.pin(h, "31000")
            try await browser.signIn(ConsoleTests.email, ConsoleTests.password)
            let listed = try await browser.get("/console/swaps")
            #expect(listed.status == 200)
            // Both sides, by sub-account, at the pinned mark: +20 for the long, -20 for the short.
            #expect(listed.html.contains("<td>consolelong</td><td>BTC-USDT-SWAP</td><td>cross</td><td>net</td><td class=\"pos\">2</td><td>30000</td><td>31000</td><td class=\"upl\">20</td>"), "\(listed.html)")
            #expect(listed.html.contains("<td>consoleshrt</td><td>BTC-USDT-SWAP</td><td>cross</td><td>net</td><td class=\"pos\">-2</td><td>30000</td><td>31000</td><td class=\"upl\">-20</td>"))
            #expect(listed.html.contains("rate <span class=\"rate\">0.0001</span>"))

            // Without the form's CSRF token nothing is settled; with it, the long pays 620 × 0.01 % to the short.
            let forged = try await browser.post("/console/swaps/BTC-USDT-SWAP/funding", [:], csrf: false)
            #expect(forged.status >= 400)
            let swap = try await h.installation.engine.instrument("BTC-USDT-SWAP")
            #expect(try await h.installation.funding.history(swap, page: Page(limit: 10)).isEmpty)
            let settled = try await browser.post("/console/swaps/BTC-USDT-SWAP/funding", [:])
            #expect(settled.location == "/console/swaps", "\(settled.html)")
            let history = try await h.installation.funding.history(swap, page: Page(limit: 10))
            #expect(history.map(\.rate.text) == ["0.0001"] && history.map(\.method) == ["manual"])
            #expect(try await h.available(long.account, .trading) == "9939.638")
            #expect(try await h.available(short.account, .trading) == "9939.942")
            let shown = try await browser.get("/console/swaps")
            #expect(shown.html.contains("funding settled at a rate of 0.0001 and a mark of 31000: 2 positions"), "\(shown.html)")
            // A second click of the button at once settles nothing more.
            h.clock.advance(by: 500)
            let again = try await browser.post("/console/swaps/BTC-USDT-SWAP/funding", [:])
            #expect(again.status == 409 && again.html.contains("settle again in a few seconds"), "\(again.status)")
            #expect(try await h.installation.funding.history(swap, page: Page(limit: 10)).count == 1)
            let audited = try await h.installation.auditStore.events(after: 0, limit: 10_000).filter { $0.record.details["fundingRate"] != nil }
            #expect(audited.count == 1 && audited.allSatisfy { $0.record.actor.hasPrefix("console:") }, "\(audited.map(\.record))")
        }
    }
}
