import Foundation
import KeysmithApp
import KeysmithCore
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
}
