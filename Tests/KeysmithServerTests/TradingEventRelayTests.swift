import Crypto
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

    static let key = SymmetricKey(data: Array(repeating: UInt8(7), count: 32))
    static let sentAt: Int64 = 1_800_000_000_000

    static func decode(_ payload: String) throws -> TradingEvent {
        let envelope = try #require(TradingEventRelay.event(from: payload, key: key, now: sentAt))
        #expect(envelope.node == "node-a")
        return envelope.event
    }

    static func payloads(_ event: TradingEvent) -> (payloads: [String], dropped: Int) {
        TradingEventRelay.payloads(event, node: "node-a", key: key, at: sentAt)
    }

    @Test
    func aSmallEventTravelsWhole() throws {
        let event = Self.sweep(makers: 2)
        let (payloads, dropped) = Self.payloads(event)
        #expect(payloads.count == 1 && dropped == 0)
        let decoded = try Self.decode(payloads[0])
        #expect(decoded.orders == event.orders && decoded.fills == event.fills && decoded.accounts == event.accounts)
        #expect(decoded.instrument == "BTC-USDT" && decoded.bookChanged && !decoded.remote)
    }

    @Test
    func aLargeEventIsSplitIntoPartsThatFitAndLoseNothing() throws {
        let event = Self.sweep(makers: 200)
        let (payloads, dropped) = Self.payloads(event)
        #expect(dropped == 0 && payloads.count > 6)
        #expect(payloads.allSatisfy { $0.utf8.count < 8_000 })
        let parts = try payloads.map { try Self.decode($0) }
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

    /// Anyone who can connect to the database can send on the channel: only what a node signed, lately, is taken.
    @Test
    func aForgedTamperedOrStaleNotificationIsRefused() throws {
        let event = Self.sweep(makers: 1)
        let genuine = Self.payloads(event).payloads[0]
        #expect(TradingEventRelay.event(from: genuine, key: Self.key, now: Self.sentAt + 60_000) != nil)
        let forged = TradingEventRelay.payloads(event, node: "node-a", key: SymmetricKey(size: .bits256), at: Self.sentAt).payloads[0]
        #expect(TradingEventRelay.event(from: forged, key: Self.key, now: Self.sentAt) == nil)
        let tampered = genuine.replacingOccurrences(of: "\"taker\"", with: "\"other\"")
        #expect(tampered != genuine && TradingEventRelay.event(from: tampered, key: Self.key, now: Self.sentAt) == nil)
        #expect(TradingEventRelay.event(from: genuine, key: Self.key, now: Self.sentAt + 60_001) == nil)
        #expect(TradingEventRelay.event(from: String(genuine.drop { $0 != " " }.dropFirst()), key: Self.key, now: Self.sentAt) == nil)
        #expect(TradingEventRelay.event(from: "", key: Self.key, now: Self.sentAt) == nil)
    }

    /// A decoded amount has a scale amounts can have (an absurd one would make its text unprintable).
    @Test
    func anAmountDecodesOnlyWithAValidScale() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(Amount.self, from: Data(#"{"units":15,"scale":1}"#.utf8)).text == "1.5")
        #expect(throws: DecodingError.self) { try decoder.decode(Amount.self, from: Data(#"{"units":1,"scale":9223372036854775807}"#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Amount.self, from: Data(#"{"units":1,"scale":-1}"#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Leverage.self, from: Data("99".utf8)) }
        #expect(try decoder.decode(Leverage.self, from: Data("250".utf8)).description == "2.5")
    }
}
