import Crypto
import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Carries committed ``TradingEvent``s between the nodes of a shared PostgreSQL database, so that a WebSocket client
/// connected to one node is pushed what another node's engine or ledger committed: each event this node publishes is
/// sent on a notification channel (in the order published, one notification after the other), and each event
/// another node sent is published here marked ``TradingEvent/remote``.
///
/// A notification is `MAC ENVELOPE`: the envelope (sending node, time sent, event) as JSON after the base64 HMAC-SHA256
/// of it under a key every node derives from the shared master key. PostgreSQL lets any role that can connect send
/// on a channel, so a notification whose MAC does not verify, or sent more than a minute from now, is dropped.
///
/// A notification holds less than 8,000 bytes: an event too large for one is sent as several, one per account and
/// then halves of its orders, fills and positions (a fill involving two accounts goes with each), each a whole
/// event for the pushes it makes. Nothing is stored: a node that is not listening when an event is sent (starting,
/// or cut off from the database) misses its pushes, and its clients catch up through REST or a new subscription's
/// snapshot.
package struct TradingEventRelay: Service {
    package static let channelName = "keysmith_trading"

    package let events: TradingEvents
    package let channel: PostgresChannel
    /// This process's id in the envelopes it sends (its own are not published twice).
    package let node: String
    package let key: SymmetricKey
    package let logger: Logger
    package var retryDelay: Duration = .milliseconds(200)
    /// How far from this node's clock a notification's sending time may be.
    static let window: Int64 = 60_000

    package init(
        events: TradingEvents, channel: PostgresChannel, key: [UInt8], node: String = KeyMaterial.randomBytes(8).lowercaseHex, logger: Logger
    ) {
        self.events = events
        self.channel = channel
        self.key = SymmetricKey(data: key)
        self.node = node
        self.logger = logger
    }

    package struct Envelope: Codable, Sendable {
        package let node: String
        package let sentAt: Int64
        package let event: TradingEvent
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    package func run() async throws {
        let outgoing = events.subscribe()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await send(outgoing) }
                group.addTask { await receive() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func send(_ stream: AsyncStream<TradingEvent>) async {
        for await event in stream where !event.remote {
            let (payloads, dropped) = Self.payloads(event, node: node, key: key, at: Self.now())
            if dropped > 0 {
                logger.warning("a trading event too large to relay was partly dropped", metadata: ["parts": "\(dropped)"])
            }
            for payload in payloads {
                do {
                    try await channel.notify(payload)
                } catch {
                    logger.warning("relaying a trading event to the other nodes failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func receive() async {
        let (node, events, key, logger) = (self.node, self.events, self.key, self.logger)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await channel.follow { payload in
                    guard let event = Self.event(from: payload, key: key, now: Self.now()) else {
                        logger.warning("a trading-event notification that does not verify was dropped")
                        return
                    }
                    guard event.node != node else { return }
                    var relayed = event.event
                    relayed.remote = true
                    events.publish(relayed)
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("trading event notifications interrupted; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: retryDelay)
        }
    }

    /// The envelope a notification carries, when its MAC verifies and it was sent within ``window`` of `now`.
    package static func event(from payload: String, key: SymmetricKey, now: Int64) -> Envelope? {
        let parts = payload.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let mac = Data(base64Encoded: String(parts[0])) else { return nil }
        let json = Data(parts[1].utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: json, using: key),
            let envelope = try? JSONDecoder().decode(Envelope.self, from: json), abs(envelope.sentAt - now) <= window
        else { return nil }
        return envelope
    }

    /// The notifications that carry `event`, each at most `limit` bytes, and how many parts could not fit at all.
    package static func payloads(
        _ event: TradingEvent, node: String, key: SymmetricKey, at sentAt: Int64, limit: Int = PostgresChannel.payloadLimit
    ) -> (payloads: [String], dropped: Int) {
        let encoder = JSONEncoder()
        var payloads: [String] = []
        var dropped = 0
        func add(_ part: TradingEvent, split: Bool) {
            // The MAC, in base64, and a space: 45 bytes.
            if let data = try? encoder.encode(Envelope(node: node, sentAt: sentAt, event: part)), data.count + 45 <= limit {
                let mac = Data(HMAC<SHA256>.authenticationCode(for: data, using: key)).base64EncodedString()
                payloads.append(mac + " " + String(decoding: data, as: UTF8.self))
                return
            }
            let parts = split ? byAccount(part) : halves(part)
            guard parts.count > 1 else {
                dropped += 1
                return
            }
            for piece in parts { add(piece, split: false) }
        }
        add(event, split: true)
        return (payloads, dropped)
    }

    /// The event seen from each account it touched.
    static func byAccount(_ event: TradingEvent) -> [TradingEvent] {
        var accounts = event.accounts
        for order in event.orders { accounts.insert(order.account) }
        for position in event.positions { accounts.insert(position.key.account) }
        guard accounts.count > 1 else { return halves(event) }
        return accounts.sorted().map { uid in
            var part = event
            part.orders = event.orders.filter { $0.account == uid }
            part.fills = event.fills.filter { $0.takerAccount == uid || $0.makerAccount == uid }
            part.positions = event.positions.filter { $0.key.account == uid }
            part.accounts = event.accounts.intersection([uid])
            return part
        }
    }

    /// The event in two: its orders halved (each half with the fills of its orders), else its fills, else its
    /// positions; one part when it cannot be split.
    static func halves(_ event: TradingEvent) -> [TradingEvent] {
        var first = event, second = event
        if event.orders.count > 1 {
            let middle = event.orders.count / 2
            first.orders = Array(event.orders[..<middle])
            second.orders = Array(event.orders[middle...])
            for (index, part) in [first, second].enumerated() {
                let ids = Set(part.orders.map(\.id))
                let fills = event.fills.filter { ids.contains($0.takerOrder) || ids.contains($0.makerOrder) }
                if index == 0 { first.fills = fills } else { second.fills = fills }
            }
            second.positions = []
            second.accounts = []
        } else if event.fills.count > 1 {
            let middle = event.fills.count / 2
            first.fills = Array(event.fills[..<middle])
            second.fills = Array(event.fills[middle...])
            second.positions = []
            second.accounts = []
        } else if event.positions.count > 1 {
            let middle = event.positions.count / 2
            first.positions = Array(event.positions[..<middle])
            second.positions = Array(event.positions[middle...])
            second.accounts = []
        } else {
            return [event]
        }
        return [first, second]
    }
}
