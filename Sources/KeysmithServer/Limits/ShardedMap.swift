import Synchronization

/// A dictionary split over independently locked shards, so concurrent requests for different keys rarely contend.
/// A shard that has grown past `pruneThreshold` entries drops its stale ones on the next access.
final class ShardedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Shard: Sendable {
        let entries = Mutex<[Key: Value]>([:])
    }

    private let shards: [Shard]
    private let pruneThreshold: Int

    init(shards: Int = 16, pruneThreshold: Int = 4096) {
        self.shards = (0..<shards).map { _ in Shard() }
        self.pruneThreshold = pruneThreshold
    }

    /// Runs `body` on the entry for `key` (nil when absent; set it to nil to remove it), under its shard's lock.
    func withEntry<R: Sendable>(_ key: Key, isStale: (Value) -> Bool, _ body: (inout Value?) -> R) -> R {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.entries.withLock { entries in
            if entries.count > pruneThreshold {
                entries = entries.filter { !isStale($0.value) }
            }
            var value = entries[key]
            let result = body(&value)
            entries[key] = value
            return result
        }
    }

    /// Runs `body` on every shard in turn, under its lock, and gathers what it returns.
    func gather<T: Sendable>(_ body: (inout [Key: Value]) -> [T]) -> [T] {
        shards.flatMap { shard in shard.entries.withLock { body(&$0) } }
    }

    var count: Int { shards.reduce(0) { $0 + $1.entries.withLock { $0.count } } }
}
