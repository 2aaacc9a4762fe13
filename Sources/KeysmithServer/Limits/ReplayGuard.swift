import KeysmithCore

/// Rejects a POST whose exact signature was already accepted while its timestamp is still inside the window
/// (50042 "Repeated request"). Check-and-record is one atomic step under a lock, so of two identical requests
/// arriving together exactly one goes through. A retry signed with a fresh timestamp has a new signature and passes.
public final class ReplayGuard: Sendable {
    private struct Seen: Hashable, Sendable {
        let apiKey: String
        let signature: String
    }

    /// When each accepted signature stops mattering (its timestamp plus the window).
    private let seen = ShardedMap<Seen, Int64>(pruneThreshold: 8192)

    public init() {}

    /// How many accepted signatures are held (expired ones are dropped as shards grow).
    public var trackedSignatures: Int { seen.count }

    /// Records the signature; false when it was already recorded and has not yet expired.
    public func accept(apiKey: String, signature: String, signedAt: Int64, now: Int64) -> Bool {
        let expiry = signedAt + OKXTimestamp.window
        return seen.withEntry(Seen(apiKey: apiKey, signature: signature), isStale: { $0 < now }) { entry in
            if let existing = entry, existing >= now { return false }
            entry = expiry
            return true
        }
    }
}
