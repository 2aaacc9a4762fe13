import KeysmithCore

/// Rejects a POST whose signed content (key, timestamp, method, target and body: ``SignedContent``) was already
/// accepted while its timestamp is still inside the window (50042 "Repeated request"). Check-and-record is one
/// atomic step under a lock, so of two identical requests arriving together exactly one goes through. A retry signed
/// with a fresh timestamp is new signed content and passes; the same request with its signature spelt differently is
/// not.
public final class ReplayGuard: Sendable {
    /// When each accepted request stops mattering (its timestamp plus the window).
    private let seen = ShardedMap<SignedContent, Int64>(pruneThreshold: 8192)

    public init() {}

    /// How many accepted requests are held (expired ones are dropped as shards grow).
    public var trackedRequests: Int { seen.count }

    /// Records the request; false when it was already recorded and has not yet expired.
    public func accept(_ content: SignedContent, signedAt: Int64, now: Int64) -> Bool {
        let expiry = signedAt + OKXTimestamp.window
        return seen.withEntry(content, isStale: { $0 < now }) { entry in
            if let existing = entry, existing >= now { return false }
            entry = expiry
            return true
        }
    }
}
