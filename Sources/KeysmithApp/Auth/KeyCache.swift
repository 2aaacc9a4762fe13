import KeysmithCore
import Synchronization

/// Every active (and expired-but-unrevoked) API key, in memory. An unknown key is rejected from memory: there is
/// no database query per request and no negative cache to poison.
///
/// Readers take the lock only to copy a reference to the immutable dictionary; writers build a new dictionary
/// and swap it in. Revoked keys are removed.
///
/// ```swift
/// let cache = KeyCache()
/// cache.apply(upserts: [cached], removals: [], sequence: 42)
/// cache.key("2b6d5a1e-…")?.key.permissions
/// ```
public final class KeyCache: Sendable {
    private struct Snapshot {
        package var keys: [String: CachedKey] = [:]
        package var sequence: Int64 = 0
        /// When the last successful read of the store began: the cache holds every change committed before it.
        package var confirmedAt: ContinuousClock.Instant?
    }

    private let snapshot = Mutex(Snapshot())

    public init() {}

    public func key(_ apiKey: String) -> CachedKey? {
        let keys = snapshot.withLock { $0.keys }
        return keys[apiKey]
    }

    /// The store change sequence this cache reflects.
    public var sequence: Int64 { snapshot.withLock { $0.sequence } }

    public var count: Int { snapshot.withLock { $0.keys.count } }

    /// Every cached key (a snapshot).
    public var allKeys: [CachedKey] {
        let keys = snapshot.withLock { $0.keys }
        return Array(keys.values)
    }

    /// Records that a store read begun at `instant` succeeded (whether or not it found changes).
    public func confirmFresh(at instant: ContinuousClock.Instant) {
        snapshot.withLock { state in
            if state.confirmedAt.map({ $0 < instant }) ?? true { state.confirmedAt = instant }
        }
    }

    /// Whether the cache is known to hold every change committed more than `bound` ago — false before the first load
    /// and while the store cannot be read.
    public func isFresh(within bound: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        guard let confirmed = snapshot.withLock({ $0.confirmedAt }) else { return false }
        return now - confirmed <= bound
    }

    /// Applies a batch of changes read from the store at `sequence`. Older batches are ignored.
    public func apply(upserts: [CachedKey], removals: [String], sequence: Int64) {
        snapshot.withLock { state in
            guard sequence >= state.sequence else { return }
            var keys = state.keys
            for key in upserts { keys[key.key.apiKey] = key }
            for apiKey in removals { keys.removeValue(forKey: apiKey) }
            state.keys = keys
            state.sequence = sequence
        }
    }
}
