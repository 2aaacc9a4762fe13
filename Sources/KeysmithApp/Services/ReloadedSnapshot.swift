import KeysmithCore
import Synchronization

/// A value read from the store and held in memory for requests, reloaded by several callers at once (the settings
/// watcher every second, and a change made on this node at once): a load that began later always wins, so a slow
/// read that began before a change committed never puts the older value back.
final class ReloadedSnapshot<Value: Sendable>: Sendable {
    private let state: Mutex<(generation: UInt64, value: Value)>
    private let started = Atomic<UInt64>(0)

    init(_ initial: Value) {
        state = Mutex((0, initial))
    }

    var value: Value { state.withLock { $0.value } }

    /// Reads the value with `read` and keeps it unless a load that began after this one has finished first.
    func reload(_ read: () async throws(OKXError) -> Value) async throws(OKXError) {
        let generation = started.add(1, ordering: .sequentiallyConsistent).newValue
        let value = try await read()
        state.withLock { current in
            if generation > current.generation { current = (generation, value) }
        }
    }
}
