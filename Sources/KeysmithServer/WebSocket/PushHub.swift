import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Logging

/// A `candle1m`, `candle1H`, `candle1Dutc`… channel of the business endpoint, and its bar.
struct CandleChannel {
    let bar: CandleBar

    init?(_ channel: String) {
        guard channel.hasPrefix("candle"), let bar = CandleBar(String(channel.dropFirst("candle".count))) else { return nil }
        self.bar = bar
    }
}

/// One subscription of one connection: the channel and its arguments, as the client sent them (echoed back in every
/// push of it).
struct Subscription: Sendable, Hashable {
    let channel: String
    let arg: [String: String]

    /// The arguments a subscription to `channel` keeps (those the channel reads, as OKX documents them); others are
    /// dropped, so that junk cannot make copies of one subscription, each rendered on every event.
    static func argumentNames(of channel: String) -> [String] {
        switch channel {
        case "balance_and_position": ["channel"]
        case "account": ["channel", "ccy", "extraParams"]
        case "orders", "positions": ["channel", "instType", "instFamily", "uly", "instId", "extraParams"]
        default: ["channel", "instId"]
        }
    }
    /// The longest value an argument may have, in bytes.
    static let argumentLength = 64

    var instrument: String? { arg["instId"] }
    var instrumentType: String? { arg["instType"] }
}

/// Routes committed ``TradingEvent``s to the WebSocket connections that subscribed to what they changed, rendering
/// each public push once for all its subscribers. It processes events one at a time, in the order they committed;
/// a subscription's snapshot and the updates that follow it are rendered by the same serial loop, so a client that
/// applies them holds exactly the state REST reads (the book's `seqId`s follow on without a gap).
actor PushHub {
    static let publicChannels: Set<String> = ["tickers", "books", "books5", "bbo-tbt", "trades"]
    static let privateChannels: Set<String> = ["account", "orders", "positions", "balance_and_position"]
    /// How many levels a side of the `books` channel carries.
    static let bookDepth = 400

    private let engine: MatchingEngine
    private let market: MarketRoutes
    private let account: AccountRoutes
    private let positionRoutes: PositionRoutes
    private let marks: MarkPriceService
    private let clock: any WallClock
    private let logger: Logger

    private var connections: [String: WebSocketConnection] = [:]
    private var subscriptions: [String: Set<Subscription>] = [:]
    /// Public subscriptions by channel and instrument, and private ones by account: connection ids.
    private var byMarket: [MarketKey: Set<String>] = [:]
    private var byAccount: [String: Set<String>] = [:]
    /// The `books` state each instrument's subscribers hold: what the last push left them with.
    private var books: [String: BookState] = [:]
    /// The cash balance per currency each `balance_and_position` subscription was last sent, by connection: its
    /// updates carry the currencies that changed since.
    private var cashSent: [String: [Subscription: [String: String]]] = [:]
    /// While an event is routed: each account's balance inputs, read once for all its subscriptions.
    private var eventBalances: [String: AccountRoutes.BalanceInputs]?

    struct MarketKey: Hashable {
        let channel: String
        let instrument: String
    }

    struct BookState {
        var bids: [Int64: [String]]
        var asks: [Int64: [String]]
        var seqID: Int64
    }

    /// How many subscriptions one connection may hold.
    private let subscriptionLimit: Int

    init(installation: Installation, subscriptionLimit: Int = WebSocketLimits().subscriptions, logger: Logger = Logger(label: "keysmith.ws")) {
        self.subscriptionLimit = subscriptionLimit
        self.logger = logger
        engine = installation.engine
        marks = installation.marks
        clock = installation.clock
        market = MarketRoutes(engine: installation.engine, orders: installation.orders, clock: installation.clock)
        account = AccountRoutes(clock: installation.clock, ledger: installation.ledger, engine: installation.engine, marks: installation.marks)
        positionRoutes = PositionRoutes(engine: installation.engine, marks: installation.marks, clock: installation.clock)
    }

    var connectionCount: Int { connections.count }

    /// Open connections per API key (logged in).
    func connectionsByKey() -> [String: Int] {
        var counts: [String: Int] = [:]
        for connection in connections.values { if let key = connection.key { counts[key.key.apiKey, default: 0] += 1 } }
        return counts
    }

    func register(_ connection: WebSocketConnection) {
        connections[connection.id] = connection
    }

    func remove(_ connection: WebSocketConnection) {
        connections[connection.id] = nil
        cashSent[connection.id] = nil
        for subscription in subscriptions.removeValue(forKey: connection.id) ?? [] { unindex(subscription, of: connection) }
    }

    /// A connection logged in again, with a key of another account: the private subscriptions it held (for the
    /// account it leaves) end.
    func forgetPrivate(of connection: WebSocketConnection, account uid: String) {
        let held = subscriptions[connection.id] ?? []
        subscriptions[connection.id] = held.filter { !Self.privateChannels.contains($0.channel) }
        byAccount[uid]?.remove(connection.id)
        if byAccount[uid]?.isEmpty == true { byAccount[uid] = nil }
        cashSent[connection.id] = nil
    }

    /// The connections logged in with `apiKey`.
    func connections(of apiKey: String) -> [WebSocketConnection] {
        connections.values.filter { $0.key?.key.apiKey == apiKey }
    }

    /// Ends connections silent for longer than `limit` (no message, not even a ping).
    func closeSilent(longerThan limit: Duration) {
        let now = ContinuousClock.now
        for connection in connections.values where connection.silence(at: now) > limit { connection.abort() }
    }

    /// Checks every logged-in connection's key against the key cache as it is now (this node's copy, refreshed from
    /// the database's key changes): a key revoked, expired, frozen, without read permission, or whose allowlist no
    /// longer admits the connection's address ends its connections with a final error event. A key that changed
    /// otherwise carries on with its new settings.
    func revalidate(cache: KeyCache, usage: UsageRecorder, now: Int64) {
        for connection in connections.values {
            guard let held = connection.key else { continue }
            guard let current = cache.key(held.key.apiKey) else {
                connection.finish(with: Self.error(OKXError.webSocketKeyDoesNotExist.with(message: "API key has been revoked"), id: nil, connection: connection))
                continue
            }
            guard current !== held else { continue }
            let lastUse = current.key.expiresWhenUnused ? usage.lastUse(current.key.apiKey)?.at : nil
            var ending: OKXError?
            switch current.key.status(at: now, lastUsedAt: lastUse) {
            case .active: break
            case .expired: ending = OKXError.webSocketKeyDoesNotExist.with(message: "API key has expired")
            case .revoked: ending = OKXError.webSocketKeyDoesNotExist.with(message: "API key has been revoked")
            }
            if ending == nil, current.account.frozen { ending = OKXError.webSocketLoginFailed.with(message: "The account has been frozen") }
            if ending == nil, !current.key.permissions.contains(.readOnly) {
                ending = OKXError.webSocketLoginFailed.with(message: "The API key no longer has read permission")
            }
            if ending == nil, !current.key.allowlist.isEmpty, !(connection.clientIP.map(current.key.allowlist.permits) ?? false) {
                ending = OKXError.webSocketLoginFailed.with(
                    message: "\(connection.clientIP?.description ?? "This address") is no longer in the API key's IP allowlist")
            }
            if let ending {
                connection.finish(with: Self.error(ending, id: nil, connection: connection))
            } else {
                connection.logIn(current)
            }
        }
    }

    // MARK: - Subscribing

    /// Confirms the subscription (`event: subscribe`, echoing `id`) and sends its snapshot when the channel has one.
    func subscribe(_ subscription: Subscription, on connection: WebSocketConnection, requestID: String?) async {
        if let instrument = subscription.instrument, (try? await engine.instrument(instrument)) == nil {
            let message = "Wrong URL or channel:\(subscription.channel),instId:\(instrument) doesn't exist"
            connection.send(Self.error(OKXError.webSocketNoSuchChannel.with(message: message), id: requestID, connection: connection))
            return
        }
        let held = subscriptions[connection.id] ?? []
        if !held.contains(subscription), held.count >= subscriptionLimit {
            let message = "Invalid args: a connection holds at most \(subscriptionLimit) subscriptions; unsubscribe first"
            connection.send(Self.error(OKXError.webSocketInvalidArguments.with(message: message), id: requestID, connection: connection))
            return
        }
        let (inserted, _) = subscriptions[connection.id, default: []].insert(subscription)
        connection.send(Self.event("subscribe", arg: subscription.arg, id: requestID, connection: connection))
        guard inserted else { return }
        index(subscription, of: connection)
        do {
            if let text = try await snapshot(subscription, for: connection) { connection.send(text) }
        } catch {
            connection.send(Self.error(error, id: requestID, connection: connection))
        }
    }

    func unsubscribe(_ subscription: Subscription, on connection: WebSocketConnection, requestID: String?) {
        if subscriptions[connection.id]?.remove(subscription) != nil { unindex(subscription, of: connection) }
        cashSent[connection.id]?[subscription] = nil
        connection.send(Self.event("unsubscribe", arg: subscription.arg, id: requestID, connection: connection))
    }

    private func index(_ subscription: Subscription, of connection: WebSocketConnection) {
        if let instrument = subscription.instrument, !Self.privateChannels.contains(subscription.channel) {
            byMarket[MarketKey(channel: subscription.channel, instrument: instrument), default: []].insert(connection.id)
        } else if let uid = connection.key?.account.uid {
            byAccount[uid, default: []].insert(connection.id)
        }
    }

    private func unindex(_ subscription: Subscription, of connection: WebSocketConnection) {
        if let instrument = subscription.instrument, !Self.privateChannels.contains(subscription.channel) {
            let key = MarketKey(channel: subscription.channel, instrument: instrument)
            byMarket[key]?.remove(connection.id)
            if byMarket[key]?.isEmpty == true {
                byMarket[key] = nil
                if subscription.channel == "books" { books[instrument] = nil }
            }
        } else if let uid = connection.key?.account.uid {
            let others = (subscriptions[connection.id] ?? []).contains { Self.privateChannels.contains($0.channel) }
            if !others { byAccount[uid]?.remove(connection.id) }
            if byAccount[uid]?.isEmpty == true { byAccount[uid] = nil }
        }
    }

    /// What a channel sends when subscribed to: the ticker, the book, the current candle, the balance or positions.
    private func snapshot(_ subscription: Subscription, for connection: WebSocketConnection) async throws -> String? {
        switch subscription.channel {
        case "tickers", "books5", "bbo-tbt":
            return try await render(subscription.channel, instrument: try await engine.instrument(subscription.instrument ?? ""))
        case "books":
            let inst = try await engine.instrument(subscription.instrument ?? "")
            let book: BookState
            if let held = books[inst.id] {
                book = held
            } else {
                book = try await currentBook(inst, seqID: 1)
                books[inst.id] = book
            }
            return try Self.bookPush(subscription.arg, book, action: "snapshot", prev: -1, now: clock.milliseconds)
        case let channel where CandleChannel(channel) != nil:
            let inst = try await engine.instrument(subscription.instrument ?? "")
            return try await candle(subscription, inst: inst, at: clock.milliseconds)
        case "account":
            guard let cached = connection.key else { return nil }
            return try await balancePush(subscription, account: cached.account, eventType: "snapshot")
        case "positions":
            guard let cached = connection.key else { return nil }
            return try await positionsPush(subscription, account: cached.account, closed: [], eventType: "snapshot")
        case "balance_and_position":
            guard let cached = connection.key else { return nil }
            return try await balanceAndPositionPush(subscription, connection: connection.id, account: cached.account, event: nil)
        default:
            return nil
        }
    }

    // MARK: - Events

    /// Routes one committed event to its subscribers.
    func handle(_ event: TradingEvent) async {
        // Another node's change reaches the private channels only: this node's engine holds neither its book nor
        // its positions (market data comes from the trading node).
        if let instrument = event.instrument, !event.remote {
            await pushMarket(event, instrument: instrument)
        }
        var accounts = event.accounts
        for order in event.orders { accounts.insert(order.account) }
        for position in event.positions { accounts.insert(position.key.account) }
        eventBalances = [:]
        defer { eventBalances = nil }
        // A push depends on the account and the subscription only (balance_and_position also on what the connection
        // was sent before): rendered once for every connection of the account that subscribed alike.
        struct Rendered: Hashable {
            let account: String
            let subscription: Subscription
        }
        var rendered: [Rendered: String?] = [:]
        for uid in accounts {
            guard let ids = byAccount[uid] else { continue }
            for id in ids {
                guard let connection = connections[id], let cached = connection.key else { continue }
                for subscription in subscriptions[id] ?? [] {
                    do {
                        let text: String?
                        if subscription.channel == "balance_and_position" {
                            text = try await balanceAndPositionPush(subscription, connection: id, account: cached.account, event: event)
                        } else if let done = rendered[Rendered(account: cached.account.uid, subscription: subscription)] {
                            text = done
                        } else {
                            text = try await privatePush(subscription, event: event, account: cached.account)
                            rendered[Rendered(account: cached.account.uid, subscription: subscription)] = .some(text)
                        }
                        if let text { connection.send(text) }
                    } catch {
                        // The client misses this push; say so (REST still reads the state).
                        logger.warning(
                            "A WebSocket push could not be made", metadata: ["channel": "\(subscription.channel)", "connId": "\(id)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    private func pushMarket(_ event: TradingEvent, instrument id: String) async {
        guard let inst = try? await engine.instrument(id) else { return }
        for channel in ["tickers", "books5", "bbo-tbt"] {
            guard let ids = byMarket[MarketKey(channel: channel, instrument: id)], !ids.isEmpty else { continue }
            guard let text = try? await render(channel, instrument: inst) else { continue }
            for connectionID in ids { connections[connectionID]?.send(text) }
        }
        if let ids = byMarket[MarketKey(channel: "books", instrument: id)], !ids.isEmpty, event.bookChanged, let old = books[id],
            let new = try? await currentBook(inst, seqID: old.seqID + 1), let update = Self.bookUpdate(from: old, to: new)
        {
            books[id] = new
            let text = try? Self.bookPush(["channel": "books", "instId": id], update, action: "update", prev: old.seqID, now: clock.milliseconds, full: new)
            for connectionID in ids { if let text { connections[connectionID]?.send(text) } }
        }
        if !event.fills.isEmpty, let ids = byMarket[MarketKey(channel: "trades", instrument: id)], !ids.isEmpty {
            let items = event.fills.map { PublicTradePush(TradeItem($0, instrument: inst)) }
            if let text = try? Self.push(["channel": "trades", "instId": id], data: items) {
                for connectionID in ids { connections[connectionID]?.send(text) }
            }
        }
        guard let last = event.fills.map(\.time).max() else { return }
        for (key, ids) in byMarket where key.instrument == id && CandleChannel(key.channel) != nil && !ids.isEmpty {
            let subscription = Subscription(channel: key.channel, arg: ["channel": key.channel, "instId": id])
            guard let text = try? await candle(subscription, inst: inst, at: last) else { continue }
            for connectionID in ids { connections[connectionID]?.send(text) }
        }
    }

    // MARK: - Rendering

    private func render(_ channel: String, instrument inst: Instrument) async throws -> String {
        let arg = ["channel": channel, "instId": inst.id]
        switch channel {
        case "tickers":
            return try Self.push(arg, data: [try await market.ticker(inst)])
        default:
            let levels = channel == "bbo-tbt" ? 1 : 5
            let depth = try await engine.depth(inst.id, levels: levels)
            let item = DepthPush(
                asks: depth.asks.map { Self.level($0, inst) }, bids: depth.bids.map { Self.level($0, inst) }, instId: inst.id,
                ts: String(clock.milliseconds), seqId: 0)
            return try Self.push(arg, data: [item])
        }
    }

    private func currentBook(_ inst: Instrument, seqID: Int64) async throws -> BookState {
        let depth = try await engine.depth(inst.id, levels: Self.bookDepth)
        return BookState(
            bids: Dictionary(depth.bids.map { ($0.0, Self.level($0, inst)) }, uniquingKeysWith: { first, _ in first }),
            asks: Dictionary(depth.asks.map { ($0.0, Self.level($0, inst)) }, uniquingKeysWith: { first, _ in first }), seqID: seqID)
    }

    static func level(_ entry: (Int64, Int128, Int), _ inst: Instrument) -> [String] {
        [
            Amount(units: entry.0, scale: inst.tickSize.scale).text, Amount.text(units: entry.1, scale: inst.lotSize.scale), "0",
            String(entry.2),
        ]
    }

    /// The levels that changed between two book states (a level that left is sent with size 0); nil when none did.
    static func bookUpdate(from old: BookState, to new: BookState) -> BookState? {
        func changed(_ before: [Int64: [String]], _ after: [Int64: [String]]) -> [Int64: [String]] {
            var levels = after.filter { before[$0.key] != $0.value }
            for (price, level) in before where after[price] == nil { levels[price] = [level[0], "0", "0", "0"] }
            return levels
        }
        let update = BookState(bids: changed(old.bids, new.bids), asks: changed(old.asks, new.asks), seqID: new.seqID)
        return update.bids.isEmpty && update.asks.isEmpty ? nil : update
    }

    /// A `books` push of `levels` (the whole book for a snapshot, the changed levels for an update), with the
    /// checksum of the book it leaves (`full`).
    static func bookPush(
        _ arg: [String: String], _ levels: BookState, action: String, prev: Int64, now: Int64, full: BookState? = nil
    ) throws -> String {
        let book = full ?? levels
        let bids = book.bids.sorted { $0.key > $1.key }.map(\.value), asks = book.asks.sorted { $0.key < $1.key }.map(\.value)
        let item = BookPush(
            asks: levels.asks.sorted { $0.key < $1.key }.map(\.value), bids: levels.bids.sorted { $0.key > $1.key }.map(\.value),
            ts: String(now), checksum: BookChecksum.of(bids: bids, asks: asks), prevSeqId: prev, seqId: levels.seqID)
        return try push(arg, action: action, data: [item])
    }

    private func candle(_ subscription: Subscription, inst: Instrument, at time: Int64) async throws -> String? {
        guard let bar = CandleChannel(subscription.channel)?.bar else { return nil }
        guard let row = try await market.candle(inst, bar: bar, at: time) else { return nil }
        return try Self.push(subscription.arg, data: [row])
    }

    /// The account's balance, read once per routed event.
    private func balance(of account: Account, query: String?) async throws -> OKXResponse<TradingBalance> {
        if let inputs = eventBalances?[account.uid] { return self.account.balance(from: inputs, query: query) }
        let inputs = try await self.account.balanceInputs(of: account)
        if eventBalances != nil { eventBalances?[account.uid] = inputs }
        return self.account.balance(from: inputs, query: query)
    }

    private func balancePush(_ subscription: Subscription, account: Account, eventType: String) async throws -> String {
        let query = subscription.arg["ccy"].map { "ccy=\($0)" }
        let balance = try await self.balance(of: account, query: query)
        var arg = subscription.arg
        arg["uid"] = account.uid
        return try Self.push(arg, eventType: eventType, data: balance.data, pages: true)
    }

    private func positionsPush(
        _ subscription: Subscription, account: Account, closed: [Position], eventType: String, remote: Bool = false
    ) async throws -> String? {
        var items = remote ? [] : try await positionRoutes.positionItems(of: account, instrument: subscription.instrument)
        for position in closed where (remote || !position.isOpen) && (subscription.instrument ?? position.key.instrument) == position.key.instrument {
            items.append(try await item(position))
        }
        if eventType != "snapshot" && items.isEmpty { return nil }
        var arg = subscription.arg
        arg["uid"] = account.uid
        return try Self.push(arg, eventType: eventType, data: items)
    }

    /// A `balance_and_position` push: the snapshot (every currency's cash balance, the open positions), or after
    /// `event` the currencies whose cash balance changed since the last push (one that left at "0"), the positions
    /// the event moved (a closed one with `pos` 0) and its trades; nil when it changed neither.
    private func balanceAndPositionPush(
        _ subscription: Subscription, connection: String, account: Account, event: TradingEvent?
    ) async throws -> String? {
        let now = clock.milliseconds
        if let event, !event.accounts.contains(account.uid), !event.positions.contains(where: { $0.key.account == account.uid }) {
            return nil
        }
        let details = try await balance(of: account, query: nil).data.first?.details ?? []
        let cash = Dictionary(details.map { ($0.ccy, $0.cashBal) }, uniquingKeysWith: { first, _ in first })
        let before = cashSent[connection]?[subscription]
        // Kept only while the subscription is (it may have ended while the balance was read).
        if subscriptions[connection]?.contains(subscription) == true { cashSent[connection, default: [:]][subscription] = cash }
        var balances = details.filter { before == nil || before?[$0.ccy] != $0.cashBal }.map {
            BalanceAndPositionPush.Balance(ccy: $0.ccy, cashBal: $0.cashBal, uTime: $0.uTime)
        }
        for (ccy, _) in before ?? [:] where cash[ccy] == nil {
            balances.append(BalanceAndPositionPush.Balance(ccy: ccy, cashBal: "0", uTime: String(now)))
        }
        var positions: [PositionItem]
        if let event {
            let moved = event.positions.filter { $0.key.account == account.uid }
            if event.remote {
                // As the other node committed them (this node's engine does not hold them).
                positions = []
                for position in moved { positions.append(try await item(position)) }
            } else {
                let open = try await positionRoutes.positionItems(of: account, instrument: nil)
                positions = open.filter { item in moved.contains { $0.key.instrument == item.instId } }
                for position in moved where !position.isOpen { positions.append(try await item(position)) }
            }
        } else {
            positions = try await positionRoutes.positionItems(of: account, instrument: nil)
        }
        if event != nil, balances.isEmpty, positions.isEmpty { return nil }
        let trades = (event?.fills ?? []).filter { $0.takerAccount == account.uid || $0.makerAccount == account.uid }.map {
            BalanceAndPositionPush.Trade(instId: $0.instrument, tradeId: String($0.tradeID))
        }
        let eventType = event.map { $0.cause ?? (trades.isEmpty ? "transferred" : "filled") } ?? "snapshot"
        let item = BalanceAndPositionPush(
            pTime: String(now), eventType: eventType, balData: balances.sorted { $0.ccy < $1.ccy },
            posData: positions.map(BalanceAndPositionPush.PositionData.init), trades: trades)
        var arg = subscription.arg
        arg["uid"] = account.uid
        return try Self.push(arg, data: [item])
    }

    /// A position as an event carried it (no mark price: the REST reading has it).
    private func item(_ position: Position) async throws -> PositionItem {
        PositionItem(position, pending: 0, instrument: try await engine.instrument(position.key.instrument), mark: nil, now: clock.milliseconds)
    }

    /// The push of `subscription` that `event` calls for, if any.
    private func privatePush(_ subscription: Subscription, event: TradingEvent, account: Account) async throws -> String? {
        switch subscription.channel {
        case "account":
            guard event.accounts.contains(account.uid) else { return nil }
            return try await balancePush(subscription, account: account, eventType: "event_update")
        case "positions":
            let moved = event.positions.filter { $0.key.account == account.uid }
            guard !moved.isEmpty, Self.matches(subscription, type: "SWAP", instrument: event.instrument) else { return nil }
            return try await positionsPush(subscription, account: account, closed: moved, eventType: "event_update", remote: event.remote)
        case "orders":
            var items: [OrderPush] = []
            for order in event.orders where order.account == account.uid {
                let inst = try await engine.instrument(order.instrument)
                guard Self.matches(subscription, type: inst.type.rawValue, instrument: inst.id) else { continue }
                let fills = event.fills.filter {
                    ($0.takerOrder == order.id && $0.takerAccount == account.uid) || ($0.makerOrder == order.id && $0.makerAccount == account.uid)
                }
                if fills.isEmpty {
                    items.append(OrderPush(OrderItem(order, instrument: inst), fill: nil))
                } else {
                    for fill in fills {
                        items.append(OrderPush(OrderItem(order, instrument: inst), fill: FillItem(fill, account: account.uid, instrument: inst, order: order.id)))
                    }
                }
            }
            guard !items.isEmpty else { return nil }
            var arg = subscription.arg
            arg["uid"] = account.uid
            return try Self.push(arg, data: items)
        default:
            return nil
        }
    }

    /// Whether an `instType` (ANY, SPOT, SWAP…) and optional `instId` subscription covers an instrument.
    static func matches(_ subscription: Subscription, type: String, instrument: String?) -> Bool {
        let wanted = subscription.instrumentType ?? "ANY"
        guard wanted == "ANY" || wanted == type else { return false }
        return subscription.instrument == nil || subscription.instrument == instrument
    }

    // MARK: - Messages

    static func push<Item: Encodable & Sendable>(
        _ arg: [String: String], action: String? = nil, eventType: String? = nil, data: [Item], pages: Bool = false
    ) throws -> String {
        let message = PushMessage(arg: arg, action: action, eventType: eventType, curPage: pages ? 1 : nil, lastPage: pages ? true : nil, data: data)
        return String(buffer: try OKXJSON.encode(message))
    }

    static func event(_ name: String, arg: [String: String]?, id: String?, connection: WebSocketConnection) -> String {
        var object: [String: Any] = ["event": name, "connId": connection.id]
        if let arg { object["arg"] = arg }
        if let id { object["id"] = id }
        return json(object)
    }

    static func error(_ error: any Error, id: String?, connection: WebSocketConnection) -> String {
        let okx = (error as? OKXError) ?? OKXError.webSocketInvalidRequest
        var object: [String: Any] = ["event": "error", "code": okx.code, "msg": okx.message, "connId": connection.id]
        if let id { object["id"] = id }
        return json(object)
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

struct PushMessage<Item: Encodable & Sendable>: Encodable, Sendable {
    let arg: [String: String]
    let action: String?
    let eventType: String?
    let curPage: Int?
    let lastPage: Bool?
    let data: [Item]
}

/// An item of the `balance_and_position` channel.
struct BalanceAndPositionPush: Encodable, Sendable {
    let pTime: String
    let eventType: String
    let balData: [Balance]
    let posData: [PositionData]
    let trades: [Trade]

    struct Balance: Encodable, Sendable {
        let ccy: String
        let cashBal: String
        let uTime: String
    }

    struct PositionData: Encodable, Sendable {
        let posId, tradeId, instId, instType, mgnMode, posSide, pos, ccy, posCcy, avgPx, nonSettleAvgPx, settledPnl, uTime: String

        init(_ item: PositionItem) {
            (posId, tradeId, instId, instType, mgnMode, posSide, pos) = (item.posId, item.tradeId, item.instId, item.instType, item.mgnMode, item.posSide, item.pos)
            (ccy, posCcy, avgPx, uTime) = (item.ccy, item.posCcy, item.avgPx, item.uTime)
            // OKX's delivery-contract fields: empty for perpetual swaps.
            (nonSettleAvgPx, settledPnl) = ("", "")
        }
    }

    struct Trade: Encodable, Sendable {
        let instId: String
        let tradeId: String
    }
}

struct BookPush: Encodable, Sendable {
    let asks: [[String]]
    let bids: [[String]]
    let ts: String
    let checksum: Int32
    let prevSeqId: Int64
    let seqId: Int64
}

struct DepthPush: Encodable, Sendable {
    let asks: [[String]]
    let bids: [[String]]
    let instId: String
    let ts: String
    let seqId: Int64
}

/// A public trade as the `trades` channel pushes it (`count`: trades aggregated, always 1 here).
struct PublicTradePush: Encodable, Sendable {
    let trade: TradeItem

    init(_ trade: TradeItem) { self.trade = trade }

    enum Keys: String, CodingKey { case count }

    func encode(to encoder: any Encoder) throws {
        try trade.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode("1", forKey: .count)
    }
}

/// An order as the `orders` channel pushes it: the REST order object, and for a push caused by a fill that fill's
/// price, size, trade id, fee, liquidity (`execType`) and profit.
struct OrderPush: Encodable, Sendable {
    let order: OrderItem
    let fill: FillItem?

    init(_ order: OrderItem, fill: FillItem?) {
        self.order = order
        self.fill = fill
    }

    enum Keys: String, CodingKey {
        case fillPx, fillSz, fillTime, tradeId, fillFee, fillFeeCcy, execType, fillPnl, amendResult, reqId, code, msg
    }

    func encode(to encoder: any Encoder) throws {
        try order.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(fill?.fillPx ?? "", forKey: .fillPx)
        try container.encode(fill?.fillSz ?? "0", forKey: .fillSz)
        try container.encode(fill?.fillTime ?? "", forKey: .fillTime)
        try container.encode(fill?.tradeId ?? "", forKey: .tradeId)
        try container.encode(fill?.fillFee ?? "0", forKey: .fillFee)
        try container.encode(fill?.fillFeeCcy ?? "", forKey: .fillFeeCcy)
        try container.encode(fill?.execType ?? "", forKey: .execType)
        try container.encode(fill?.fillPnl ?? "0", forKey: .fillPnl)
        try container.encode("", forKey: .amendResult)
        try container.encode("", forKey: .reqId)
        try container.encode("0", forKey: .code)
        try container.encode("", forKey: .msg)
    }
}
