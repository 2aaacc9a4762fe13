import KeysmithCore

/// The keys written after a change sequence, and the newest sequence (``KeyStore/keyChanges(after:)``).
public struct KeyChanges: Sendable {
    public var keys: [StoredKey]
    public var latestSequence: Int64

    public init(keys: [StoredKey], latestSequence: Int64) {
        self.keys = keys
        self.latestSequence = latestSequence
    }
}

/// A push feed of key changes from a shared database (PostgreSQL `LISTEN/NOTIFY`), so that nodes learn of a
/// change made elsewhere at once instead of at their next poll.
public protocol KeyChangeFeed: Sendable {
    /// Subscribes, calls `onChange(nil)` once subscribed (catch up: changes made while not listening were missed),
    /// then `onChange(sequence)` for each committed change until the connection drops (throws) or the task is cancelled.
    func followChanges(_ onChange: @escaping @Sendable (Int64?) async -> Void) async throws(StoreError)
}
