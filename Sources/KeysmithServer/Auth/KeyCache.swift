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
        var keys: [String: CachedKey] = [:]
        var sequence: Int64 = 0
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
