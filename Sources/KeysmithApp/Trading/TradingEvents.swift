import KeysmithCore
import Synchronization

/// What one committed change did to the books, orders, positions and balances: published after its transaction
/// committed (never for a change that could still roll back), in commit order — the matching engine's changes are
/// serialised, and each publishes before the next one starts.
public struct TradingEvent: Sendable, Codable {
    /// The instrument whose book or trades changed (nil for a balance-only change such as a transfer).
    public var instrument: String?
    /// The orders the change touched, as committed (the placed or amended order first, then the makers it filled).
    public var orders: [Order] = []
    /// The fills it made, as committed (trade ids assigned).
    public var fills: [Fill] = []
    /// The positions it moved, as committed (closed ones at zero).
    public var positions: [Position] = []
    /// Accounts whose trading balances changed.
    public var accounts: Set<String> = []
    /// Whether the instrument's book changed (an order rested, left or shrank).
    public var bookChanged = false
    /// What caused a balance change other than a fill, in OKX's `balance_and_position` words: `liquidation`,
    /// `funding_fee`, `transferred` (nil: an order placed, amended, filled or canceled).
    public var cause: String?
    /// Made by another node and relayed through the shared database (``TradingEventRelay``): it carries what that
    /// node committed, and this node's matching engine never saw it.
    public var remote = false

    public init(instrument: String?) {
        self.instrument = instrument
    }
}

/// Fans committed ``TradingEvent``s out to whoever listens (the WebSocket push hub). A listener receives every event
/// published after it subscribed, in order, and none is dropped: a listener must keep up (it only routes them).
///
/// ```swift
/// let stream = events.subscribe()
/// for await event in stream { … }
/// ```
public final class TradingEvents: Sendable {
    private let listeners = Mutex<[Int: AsyncStream<TradingEvent>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    public func subscribe() -> AsyncStream<TradingEvent> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<TradingEvent>.makeStream()
        continuation.onTermination = { [weak self] _ in self?.listeners.withLock { _ = $0.removeValue(forKey: id) } }
        listeners.withLock { $0[id] = continuation }
        return stream
    }

    public var hasListeners: Bool { listeners.withLock { !$0.isEmpty } }

    public func publish(_ event: TradingEvent) {
        let current = listeners.withLock { Array($0.values) }
        for listener in current { listener.yield(event) }
    }
}
