import Foundation
import KeysmithApp
import KeysmithCore
import Testing

/// How a committed event is carried to the other nodes: whole when it fits a PostgreSQL notification, else in parts
/// that each fit and together carry every order, fill and position of it, for each account it touched.
@Suite struct TradingEventRelayTests {
    static func order(_ id: Int64, account: String) -> Order {
        Order(
            id: id, clientOrderID: "client-order-\(id)-with-a-long-name", tag: "", account: account, apiKey: "key-\(account)",
            instrument: "BTC-USDT", side: .buy, type: .limit, price: 30_000_0, size: 1_000, targetCurrency: "base_ccy", createdAt: 1, updatedAt: 2)
    }

    /// A sweep: one taker order of account "taker" filling `makers` orders of accounts m0…m4.
    static func sweep(makers: Int) -> TradingEvent {
        var event = TradingEvent(instrument: "BTC-USDT")
        event.orders = [order(1, account: "taker")] + (0..<makers).map { order(Int64(100 + $0), account: "m\($0 % 5)") }
        event.fills = (0..<makers).map {
            Fill(
                tradeID: Int64(1_000 + $0), instrument: "BTC-USDT", takerOrder: 1, makerOrder: Int64(100 + $0), takerAccount: "taker",
                makerAccount: "m\($0 % 5)", side: .buy, price: 30_000_0, size: 10, notional: 300_000, time: 5)
        }
        event.accounts = Set(["taker"] + (0..<min(makers, 5)).map { "m\($0)" })
        event.bookChanged = true
        return event
    }

    static func decode(_ payload: String) throws -> TradingEvent {
        struct Envelope: Decodable {
            let node: String
            let event: TradingEvent
        }
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(payload.utf8))
        #expect(envelope.node == "node-a")
        return envelope.event
    }

    @Test
    func aSmallEventTravelsWhole() throws {
        let event = Self.sweep(makers: 2)
        let (payloads, dropped) = TradingEventRelay.payloads(event, node: "node-a")
        #expect(payloads.count == 1 && dropped == 0)
        let decoded = try Self.decode(payloads[0])
        #expect(decoded.orders == event.orders && decoded.fills == event.fills && decoded.accounts == event.accounts)
        #expect(decoded.instrument == "BTC-USDT" && decoded.bookChanged && !decoded.remote)
    }

    @Test
    func aLargeEventIsSplitIntoPartsThatFitAndLoseNothing() throws {
        let event = Self.sweep(makers: 200)
        let (payloads, dropped) = TradingEventRelay.payloads(event, node: "node-a")
        #expect(dropped == 0 && payloads.count > 6)
        #expect(payloads.allSatisfy { $0.utf8.count < 8_000 })
        let parts = try payloads.map(Self.decode)
        // Every account's orders and fills arrive, each fill with both of its orders' accounts.
        for uid in event.accounts {
            let orders = Set(parts.flatMap(\.orders).filter { $0.account == uid }.map(\.id))
            #expect(orders == Set(event.orders.filter { $0.account == uid }.map(\.id)), "\(uid)")
            let fills = Set(parts.flatMap(\.fills).filter { $0.takerAccount == uid || $0.makerAccount == uid }.map(\.tradeID))
            #expect(fills == Set(event.fills.filter { $0.takerAccount == uid || $0.makerAccount == uid }.map(\.tradeID)), "\(uid)")
            #expect(parts.contains { $0.accounts == [uid] }, "\(uid)")
        }
        // A part names only the account it is for.
        #expect(parts.allSatisfy { $0.accounts.count <= 1 })
    }
}
