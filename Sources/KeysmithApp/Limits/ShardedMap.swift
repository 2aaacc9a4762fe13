import Synchronization

/// A dictionary split over independently locked shards, so concurrent requests for different keys rarely contend.
///
/// A shard that has grown past its threshold drops its stale entries on the next access; the threshold then becomes
/// twice what survived (never below the initial one), so a shard full of live entries is not rescanned on every
/// access — pruning stays amortised O(1).
package final class ShardedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        package var entries: [Key: Value] = [:]
        package var pruneAt: Int
    }

    private final class Shard: Sendable {
        package let state: Mutex<State>

        package init(pruneAt: Int) {
            state = Mutex(State(pruneAt: pruneAt))
        }
    }

    private let shards: [Shard]
    private let pruneThreshold: Int

    package init(shards: Int = 16, pruneThreshold: Int = 4096) {
        self.shards = (0..<shards).map { _ in Shard(pruneAt: pruneThreshold) }
        self.pruneThreshold = pruneThreshold
    }

    /// Runs `body` on the entry for `key` (nil when absent; set it to nil to remove it), under its shard's lock.
    package func withEntry<R: Sendable>(_ key: Key, isStale: (Value) -> Bool, _ body: (inout Value?) -> R) -> R {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        let minimum = pruneThreshold
        return shard.state.withLock { state in
            if state.entries.count > state.pruneAt {
                state.entries = state.entries.filter { !isStale($0.value) }
                let doubled = state.entries.count.multipliedReportingOverflow(by: 2)
                state.pruneAt = max(minimum, doubled.overflow ? .max : doubled.partialValue)
            }
            var value = state.entries[key]
            let result = body(&value)
            state.entries[key] = value
            return result
        }
    }

    /// Runs `body` on every shard in turn, under its lock, and gathers what it returns.
    package func gather<T: Sendable>(_ body: (inout [Key: Value]) -> [T]) -> [T] {
        shards.flatMap { shard in shard.state.withLock { body(&$0.entries) } }
    }

    package var count: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.entries.count } } }
}
