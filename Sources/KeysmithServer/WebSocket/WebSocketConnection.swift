import KeysmithApp
import KeysmithCore
import NIOCore
import Synchronization

/// The three WebSocket endpoints OKX serves, and which channels each carries.
enum WebSocketEndpoint: String, Sendable {
    case `public`, `private`, business

    /// Whether a client may subscribe to `channel` here (and whether that needs a login).
    func carries(_ channel: String) -> (exists: Bool, needsLogin: Bool) {
        switch self {
        case .public: (PushHub.publicChannels.contains(channel), false)
        case .private: (PushHub.privateChannels.contains(channel), true)
        case .business: (CandleChannel(channel) != nil, false)
        }
    }
}

/// One open WebSocket: who it is (its endpoint, environment, peer and logged-in key), and its bounded queue of
/// outgoing messages. A push that finds the queue full closes the connection (a reader that does not keep up is
/// cut off rather than left to grow the server's memory).
final class WebSocketConnection: Sendable {
    let id: String
    let endpoint: WebSocketEndpoint
    let environment: KeyEnvironment
    let clientIP: IPAddress?
    /// The NIO channel under the socket: closed outright when the connection must end at once.
    private let channel: any Channel
    private let outbox: AsyncStream<String>.Continuation
    let outgoing: AsyncStream<String>
    private let state: Mutex<State>

    struct State {
        var key: CachedKey?
        var lastHeard: ContinuousClock.Instant
        var closing = false
        /// The send queue overflowed: the client was not reading.
        var overflowed = false
        /// Login, subscribe and unsubscribe requests, in the current hour (OKX: 480 per hour per connection).
        var requests: [ContinuousClock.Instant] = []
        /// Trading requests refused before anything was carried out, in the current hour.
        var refusals: [ContinuousClock.Instant] = []
    }

    init(
        id: String, endpoint: WebSocketEndpoint, environment: KeyEnvironment, clientIP: IPAddress?, channel: any Channel, queueLimit: Int
    ) {
        self.id = id
        self.endpoint = endpoint
        self.environment = environment
        self.clientIP = clientIP
        self.channel = channel
        (outgoing, outbox) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
        state = Mutex(State(lastHeard: .now))
    }

    var key: CachedKey? { state.withLock { $0.key } }

    func logIn(_ key: CachedKey) { state.withLock { $0.key = key } }

    func heard(at instant: ContinuousClock.Instant = .now) { state.withLock { $0.lastHeard = instant } }

    func silence(at instant: ContinuousClock.Instant = .now) -> Duration { state.withLock { instant - $0.lastHeard } }

    /// Counts a login, subscribe or unsubscribe; false when the connection made `limit` of them in the past hour.
    func countRequest(limit: Int, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { Self.count(&$0.requests, limit: limit, now: now) }
    }

    /// Counts a trading request refused before it was carried out; false when the connection had `limit` of them in
    /// the past hour.
    func countRefusal(limit: Int, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { Self.count(&$0.refusals, limit: limit, now: now) }
    }

    private static func count(_ times: inout [ContinuousClock.Instant], limit: Int, now: ContinuousClock.Instant) -> Bool {
        times.removeAll { now - $0 >= .seconds(3600) }
        guard times.count < limit else { return false }
        times.append(now)
        return true
    }

    /// How long a closing connection (its send queue overflowed, or its last event sent) has to take what was queued
    /// before it is cut off.
    static let overflowGrace: TimeAmount = .seconds(5)

    /// Queues a message. A full queue takes no more: what is queued goes out, then the connection is closed with
    /// status 1008 (``overflowed``) — or cut off after ``overflowGrace`` if the client does not read it.
    func send(_ text: String) {
        guard case .dropped = outbox.yield(text) else { return }
        let first = state.withLock { state in
            defer { (state.closing, state.overflowed) = (true, true) }
            return !state.overflowed
        }
        guard first else { return }
        outbox.finish()
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: Self.overflowGrace) { channel.close(promise: nil) }
    }

    /// Whether the send queue overflowed (the connection is being closed for it).
    var overflowed: Bool { state.withLock { $0.overflowed } }

    /// Sends `last` (an error or notice event) and then closes, once the client has been sent what was queued.
    func finish(with last: String?) {
        let first = state.withLock { state in
            defer { state.closing = true }
            return !state.closing
        }
        guard first else { return }
        if let last { send(last) }
        outbox.finish()
        // A client that does not read what is left is cut off.
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: Self.overflowGrace) { channel.close(promise: nil) }
    }

    /// Whether the connection is ending (its queue takes no more).
    var isClosing: Bool { state.withLock { $0.closing } }

    /// Closes the socket now, queued messages or not.
    func abort() {
        state.withLock { $0.closing = true }
        outbox.finish()
        channel.close(promise: nil)
    }
}
