import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Logging
import NIOCore
import ServiceLifecycle

/// OKX's WebSocket API on the REST server's port: `/ws/v5/public`, `/ws/v5/private` and `/ws/v5/business` (demo
/// trading on the same paths with `?brokerId=9999`, as ccxt's sandbox mode connects). Each connection answers the
/// text `ping` with `pong`, is closed after `silenceLimit` without a message, logs in with an API key under the
/// REST checks (``RequestAuthenticator/login(_:clientIP:environment:now:)``), and subscribes to channels whose pushes
/// ``PushHub`` routes from committed changes.
struct WebSocketGateway: Sendable {
    let hub: PushHub
    let authenticator: RequestAuthenticator
    let resolver: ClientAddressResolver
    let auditQueue: AuditQueue
    let cacheLoader: KeyCacheLoader
    let clock: any WallClock
    let limits: WebSocketLimits
    let operations: TradeOperations
    let maintenance: MaintenanceService
    let orders: any OrderStore
    let logger: Logger
    /// When set, logins and trading are refused with 50001 while the key cache has not confirmed the store's state
    /// within this long (as REST: a node cut off from a shared database must not act on keys revoked elsewhere).
    var freshnessBound: Duration? = nil
    /// Rate limits across nodes (PostgreSQL), shared with REST's.
    var sharedLimits: SharedRateLimiter? = nil
    /// New connections per client network (an IPv4 address, an IPv6 prefix as the failed-auth lockout counts).
    let connectionLimiter = RateLimiter()

    private static let connecting = EndpointFamily("ws/connect", 3, per: 1000)

    /// The upgrade decision for an HTTP request: a WebSocket for the three paths, the REST router for anything else.
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel, logger: Logger)
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let target = request.path ?? ""
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        guard path.hasPrefix("/ws/v5/"), let endpoint = WebSocketEndpoint(rawValue: String(path.dropFirst("/ws/v5/".count))) else {
            return .dontUpgrade
        }
        let query = parts.count > 1 ? OKXParameters(query: String(parts[1])) : OKXParameters(query: nil)
        let environment: KeyEnvironment = query.optional("brokerId") == "9999" ? .demo : .live
        let peer = channel.remoteAddress.flatMap(IPAddress.init(socketAddress:))
        let clientIP = resolver.clientIP(peer: peer, forwardedFor: request.headerFields[.xForwardedFor])
        let connection = WebSocketConnection(
            id: Self.connectionID(), endpoint: endpoint, environment: environment, clientIP: clientIP, channel: channel,
            queueLimit: limits.sendQueue)
        // Beyond the per-IP connection rate the connection opens only to say so, and closes.
        let network = clientIP.map { $0.clientNetwork(ipv6PrefixLength: limits.ipv6PrefixLength).description } ?? ""
        let retry = connectionLimiter.take(subject: network, family: Self.connecting, override: limits.connectionRate, now: clock.milliseconds)
        return .upgrade([:]) { inbound, outbound, _ in
            if let retry {
                let refusal = OKXError.webSocketTooFrequent.with(
                    message: "Too many connection requests from this address; retry in \(max(1, retry)) ms")
                connection.finish(with: PushHub.error(refusal, id: nil, connection: connection))
                for await text in connection.outgoing { try? await outbound.write(.text(text)) }
                try? await outbound.close(.policyViolation, reason: nil)
                return
            }
            await run(connection, inbound: inbound, outbound: outbound)
        }
    }

    /// A connection's life: its writer drains the send queue, its reader answers requests; whichever ends first ends
    /// the other.
    private func run(_ connection: WebSocketConnection, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        await hub.register(connection)
        await withGracefulShutdownHandler {
            await serve(connection, inbound: inbound, outbound: outbound)
        } onGracefulShutdown: {
            let notice = OKXError.webSocketClosing
            connection.finish(with: PushHub.json(["event": "notice", "code": notice.code, "msg": notice.message, "connId": connection.id]))
        }
        await hub.remove(connection)
    }

    private func serve(_ connection: WebSocketConnection, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for await text in connection.outgoing { try await outbound.write(.text(text)) }
                    if connection.overflowed {
                        try await outbound.close(.policyViolation, reason: "slow consumer: \(limits.sendQueue) messages unsent")
                    } else {
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                } catch {
                    connection.abort()
                }
            }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: limits.messageSize) {
                        // A connection being closed (its last event sent) reads no more requests.
                        if connection.isClosing { break }
                        connection.heard()
                        await handle(message, on: connection)
                    }
                } catch {}
                connection.abort()
            }
            await group.next()
            group.cancelAll()
        }
        if connection.overflowed {
            logger.warning(
                "WebSocket connection closed: its client fell \(limits.sendQueue) messages behind",
                metadata: ["connId": "\(connection.id)", "apiKey": "\(connection.key?.key.apiKey ?? "")"])
        }
    }

    private func handle(_ message: WebSocketMessage, on connection: WebSocketConnection) async {
        guard case .text(let text) = message else {
            connection.send(PushHub.error(OKXError.webSocketInvalidRequest.with(message: "Invalid request: send text frames"), id: nil, connection: connection))
            return
        }
        if text == "ping" {
            connection.send("pong")
            return
        }
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let op = object["op"] as? String
        else {
            connection.send(PushHub.error(Self.invalid(text), id: nil, connection: connection))
            return
        }
        let id = object["id"] as? String
        if let id, id.count > 32 || !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            connection.send(PushHub.error(Self.invalid(text).with(message: "Invalid request: id is up to 32 letters and digits"), id: nil, connection: connection))
            return
        }
        if let trading = WebSocketTradeOp(rawValue: op) {
            await trade(trading, text: text, on: connection)
            return
        }
        let args = object["args"] as? [[String: Any]] ?? []
        switch op {
        case "login", "subscribe", "unsubscribe":
            guard connection.countRequest(limit: limits.requestsPerHour) else {
                connection.send(PushHub.error(OKXError.webSocketTooFrequent, id: id, connection: connection))
                return
            }
            if op == "login" {
                let arrival = ContinuousClock.now
                if authenticator.isUnknown(args.first?["apiKey"] as? String) {
                    // Perhaps created a moment ago by another process: wait for a (coalesced) refresh, then decide.
                    await cacheLoader.refresh(coveringArrivalAt: arrival)
                }
                await login(args.first, id: id, on: connection)
            } else {
                guard !args.isEmpty else {
                    connection.send(PushHub.error(OKXError.webSocketInvalidArguments.with(message: "Invalid args: args is empty"), id: id, connection: connection))
                    return
                }
                for arg in args { await subscribe(arg, unsubscribing: op == "unsubscribe", id: id, on: connection) }
            }
        default:
            connection.send(
                PushHub.error(OKXError.webSocketInvalidOp(op), id: id, connection: connection))
        }
    }

    private func login(_ arg: [String: Any]?, id: String?, on connection: WebSocketConnection) async {
        let now = clock.milliseconds
        func text(_ name: String) -> String {
            switch arg?[name] {
            case let value as String: value
            case let value as NSNumber: value.stringValue
            default: ""
            }
        }
        let login = RequestAuthenticator.Login(apiKey: text("apiKey"), passphrase: text("passphrase"), timestamp: text("timestamp"), sign: text("sign"))
        var record = AuditRecord(
            time: now, requestID: connection.id, actor: login.apiKey, action: "ws login /ws/v5/\(connection.endpoint.rawValue)",
            clientIP: connection.clientIP?.description ?? "")
        do throws(OKXError) {
            guard connection.endpoint != .public else {
                throw OKXError.webSocketInvalidRequest.with(message: "Invalid request: log in on /ws/v5/private or /ws/v5/business")
            }
            try checkFreshness()
            let cached = try authenticator.login(login, clientIP: connection.clientIP, environment: connection.environment, now: now)
            let previous = connection.key
            connection.logIn(cached)
            if let previous, previous.account.uid != cached.account.uid {
                await hub.forgetPrivate(of: connection, account: previous.account.uid)
            }
            record.account = cached.account.uid
            var answer: [String: Any] = ["event": "login", "code": "0", "msg": "", "connId": connection.id]
            if let id { answer["id"] = id }
            connection.send(PushHub.json(answer))
        } catch {
            record.result = error.code
            record.actor = authenticator.isUnknown(login.apiKey) ? "" : login.apiKey
            connection.send(PushHub.error(error, id: id, connection: connection))
        }
        // Awaited: a client sending logins faster than audit records are written waits for the writer.
        await auditQueue.add(record)
    }

    /// 50001 while the key cache is older than the freshness bound.
    func checkFreshness() throws(OKXError) {
        if let freshnessBound, !cacheLoader.cache.isFresh(within: freshnessBound, now: .now) { throw OKXError.serviceUnavailable }
    }

    private func subscribe(_ raw: [String: Any], unsubscribing: Bool, id: String?, on connection: WebSocketConnection) async {
        // Only the arguments a channel reads are kept (and echoed back): anything else would make distinct
        // subscriptions of the same channel out of junk keys.
        var arg: [String: String] = [:]
        for name in Subscription.argumentNames(of: raw["channel"] as? String ?? "") {
            guard let value = raw[name] else { continue }
            guard let text = value as? String, text.utf8.count <= Subscription.argumentLength else {
                let message = "Invalid args: \(name) is text of up to \(Subscription.argumentLength) characters"
                connection.send(PushHub.error(OKXError.webSocketInvalidArguments.with(message: message), id: id, connection: connection))
                return
            }
            arg[name] = text
        }
        guard let channel = arg["channel"], !channel.isEmpty else {
            connection.send(PushHub.error(OKXError.webSocketInvalidArguments.with(message: "Invalid args: channel is required"), id: id, connection: connection))
            return
        }
        let carried = connection.endpoint.carries(channel)
        guard carried.exists else {
            let message = "Wrong URL or channel:\(channel),instId:\(arg["instId"] ?? "") doesn't exist"
            connection.send(PushHub.error(OKXError.webSocketNoSuchChannel.with(message: message), id: id, connection: connection))
            return
        }
        guard !carried.needsLogin || connection.key != nil else {
            connection.send(PushHub.error(OKXError.webSocketPleaseLogIn, id: id, connection: connection))
            return
        }
        let subscription = Subscription(channel: channel, arg: arg)
        if unsubscribing {
            await hub.unsubscribe(subscription, on: connection, requestID: id)
            return
        }
        if !carried.needsLogin, arg["instId"]?.isEmpty ?? true {
            connection.send(PushHub.error(OKXError.webSocketInvalidArguments.with(message: "Invalid args: instId is required for \(channel)"), id: id, connection: connection))
            return
        }
        if ["orders", "positions"].contains(channel), !["ANY", "SPOT", "SWAP", "MARGIN", "FUTURES", "OPTION"].contains(arg["instType"] ?? "") {
            connection.send(PushHub.error(OKXError.webSocketInvalidArguments.with(message: "Invalid args: instType is required for \(channel)"), id: id, connection: connection))
            return
        }
        await hub.subscribe(subscription, on: connection, requestID: id)
    }

    private static func invalid(_ text: String) -> OKXError {
        OKXError.webSocketInvalidRequest.with(message: "Invalid request: \(text.prefix(200))")
    }

    /// An 8-character connection id (`connId`).
    private static func connectionID() -> String {
        String(KeyMaterial.randomBytes(4).lowercaseHex)
    }
}

/// What one WebSocket connection may do: its queue of unsent messages, the size of a message it sends, its login
/// and subscription requests per hour, how long it may stay silent, and how many subscriptions it holds.
public struct WebSocketLimits: Sendable {
    public var sendQueue: Int
    public var messageSize: Int
    public var requestsPerHour: Int
    public var silence: Duration
    /// How many subscriptions one connection may hold at once.
    public var subscriptions: Int
    /// Trading requests a connection may have refused before anything was carried out (not logged in, no trade
    /// permission, rate limited, malformed…) in an hour; one more closes it.
    public var refusalsPerHour = 480
    /// IPv6 clients are counted per network of this prefix length for the connection rate.
    public var ipv6PrefixLength = 64
    /// New connections per client IP (OKX: 3 a second).
    public var connectionRate: RateLimit = .limit(requests: 3, periodMilliseconds: 1000)

    public init(
        sendQueue: Int = 4096, messageSize: Int = 1 << 16, requestsPerHour: Int = 480, silence: Duration = .seconds(30), subscriptions: Int = 256
    ) {
        self.subscriptions = subscriptions
        self.sendQueue = sendQueue
        self.messageSize = messageSize
        self.requestsPerHour = requestsPerHour
        self.silence = silence
    }
}

/// The push hub's loop over committed events, and the sweep that closes silent connections, as a service of the
/// server's lifecycle.
struct PushService: Service {
    let hub: PushHub
    let events: TradingEvents
    let silence: Duration
    let cache: KeyCache
    let usage: UsageRecorder
    let clock: any WallClock

    func run() async throws {
        let stream = events.subscribe()
        await cancelWhenGracefulShutdown {
            await self.loop(stream)
        }
    }

    private func loop(_ stream: AsyncStream<TradingEvent>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in stream { await hub.handle(event) }
            }
            group.addTask {
                // Four times a second: a revoked key's connections end within a second of this node's cache seeing it.
                var ticks = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await hub.revalidate(cache: cache, usage: usage, now: clock.milliseconds)
                    ticks += 1
                    if ticks % 4 == 0 { await hub.closeSilent(longerThan: silence) }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
