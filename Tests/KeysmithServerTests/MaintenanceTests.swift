import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Logging
import Testing

/// `system/status` lists the operator's maintenance windows in OKX's shape; while one of the trading service runs,
/// placing and cancelling answer 50001 (ccxt: OnMaintenance) and change nothing, and reads keep working.
@Suite struct MaintenanceTests {
    static let hour: Int64 = 3_600_000

    @Test
    func aHealthyServerAnswersAnEmptyList() async throws {
        try await Harness.run { h in
            let status = try await h.call(.get, "/api/v5/system/status", as: nil)
            #expect(status.code == "0" && status.data.isEmpty)
            #expect(try await h.call(.get, "/api/v5/system/status?state=bogus", as: nil).code == "51000")
        }
    }

    @Test
    func tradingStopsWhileAWindowOfTheTradingServiceRuns() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000", btc: "1")
            let resting = try #require(
                try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).data.first?["ordId"] as? String)
            let begin = h.clock.milliseconds + Self.hour
            let window = try await h.installation.maintenance.schedule(
                title: "Matching engine upgrade", begin: begin, end: begin + Self.hour, origin: .test)

            let scheduled = try await h.call(.get, "/api/v5/system/status", as: nil)
            #expect(scheduled.data.count == 1, "\(scheduled.raw)")
            let item = try #require(scheduled.data.first)
            #expect(item["state"] as? String == "scheduled" && item["title"] as? String == "Matching engine upgrade")
            #expect(item["begin"] as? String == String(begin) && item["end"] as? String == String(begin + Self.hour))
            #expect(item["serviceType"] as? String == "5" && item["system"] as? String == "unified")
            #expect(try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).code == "0", "not yet")

            h.clock.advance(by: Self.hour)
            #expect(try await h.call(.get, "/api/v5/system/status", as: nil).data.first?["state"] as? String == "ongoing")
            let before = try await h.available(trader.account, .trading, "USDT")
            let refused = try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key)
            #expect(refused.code == "50001" && refused.status == 503 && refused.msg.contains("Matching engine upgrade"), "\(refused.raw)")
            let batch = try await h.order("[\(TradingTests.limit("buy", sz: "0.1", px: "20000"))]", as: trader.key, path: "/api/v5/trade/batch-orders")
            #expect(batch.code == "50001")
            h.clock.advance(by: 1)
            let cancel = try await h.call(.post, "/api/v5/trade/cancel-order", body: #"{"instId":"BTC-USDT","ordId":"\#(resting)"}"#, as: trader.key)
            #expect(cancel.code == "50001")
            h.clock.advance(by: 1)
            let amend = try await h.call(
                .post, "/api/v5/trade/amend-order", body: #"{"instId":"BTC-USDT","ordId":"\#(resting)","newPx":"19000"}"#, as: trader.key)
            #expect(amend.code == "50001")
            #expect(try await h.available(trader.account, .trading, "USDT") == before, "nothing moved")
            #expect(try await h.call(.get, "/api/v5/trade/orders-pending", as: trader.key).data.count == 2, "reads keep working")

            // The operator ends it early: trading resumes at once, and the window is completed.
            let endedAt = h.clock.milliseconds
            let ended = try await h.installation.maintenance.close(id: window.id, origin: .test)
            #expect(ended.completedAt == endedAt && ended.actualEnd == endedAt)
            #expect(try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).code == "0")
            #expect(try await h.call(.get, "/api/v5/system/status", as: nil).data.isEmpty)
            let completed = try await h.call(.get, "/api/v5/system/status?state=completed", as: nil)
            #expect(completed.data.first?["state"] as? String == "completed" && completed.data.first?["end"] as? String == String(endedAt))
        }
    }

    @Test
    func windowsOfOtherServicesAndCancelledOnesDoNotStopTrading() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000")
            let now = h.clock.milliseconds
            _ = try await h.installation.maintenance.schedule(title: "WebSocket", begin: now, end: now + Self.hour, serviceType: "0", origin: .test)
            let later = try await h.installation.maintenance.schedule(title: "Later", begin: now + Self.hour, end: now + 2 * Self.hour, origin: .test)
            #expect(try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).code == "0")
            let canceled = try await h.installation.maintenance.close(id: later.id, origin: .test)
            #expect(canceled.state(at: h.clock.milliseconds) == .canceled)
            h.clock.advance(by: Self.hour + 1)
            #expect(try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).code == "0")
            #expect(try await h.call(.get, "/api/v5/system/status?state=canceled", as: nil).data.first?["title"] as? String == "Later")
            // Closing it again, or a window that does not exist, is refused.
            await #expect(throws: OKXError.self) { try await h.installation.maintenance.close(id: later.id, origin: .test) }
            await #expect(throws: OKXError.self) { try await h.installation.maintenance.close(id: 4242, origin: .test) }
        }
    }

    @Test
    func aWindowScheduledByAnotherProcessReachesTheServerAtItsNextRefresh() async throws {
        try await Harness.run { h in
            let trader = try await h.trader("trader01", usdt: "10000")
            // The CLI: another installation on the same data folder, as `keysmith maintenance schedule` opens it.
            let cli = try await TestBackend.open(
                dataDirectory: h.installation.dataDirectory, clock: h.clock, role: .command, logger: Logger(label: "cli"))
            let now = h.clock.milliseconds
            _ = try await cli.maintenance.schedule(title: "From the CLI", begin: now, end: now + Self.hour, origin: .test)
            cli.postgres?.close()
            // The watcher reloads every second; the test awaits the reload itself instead of sleeping.
            try await h.installation.maintenance.refresh()
            #expect(try await h.order(TradingTests.limit("buy", sz: "0.1", px: "20000"), as: trader.key).code == "50001")
        }
    }

    @Test(arguments: [
        ("", Int64(0), Int64(1), "5", "title"), ("t", 10, 10, "5", "end"), ("t", 10, 5, "5", "end"), ("t", 0, 1, "4", "serviceType"),
    ])
    func invalidWindowsAreRefusedAndSaveNothing(_ title: String, _ begin: Int64, _ end: Int64, _ type: String, _ field: String) async throws {
        try await Harness.run { h in
            let error = await #expect(throws: OKXError.self) {
                try await h.installation.maintenance.schedule(title: title, begin: begin, end: end, serviceType: type, origin: .test)
            }
            #expect(error?.code == "51000" && error?.parameter == field)
            let saved = try await h.installation.maintenance.windows()
            #expect(saved.isEmpty)
        }
    }
}
