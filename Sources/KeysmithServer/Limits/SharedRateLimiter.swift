import KeysmithCore
import KeysmithStore

/// Per-key rate limits that hold across the nodes of a shared database. Each node still runs its own token buckets
/// (``RateLimiter``); on top, a request must fit in the key's budget for the family's fixed window, which the nodes
/// share through ``SharedRateBudget``. A node takes requests from that budget in leases of a quarter of the limit,
/// so only about one request in `limit / 4` waits for the database.
///
/// Bounds, with N nodes: the nodes together never grant more than the limit within one window, but as with any
/// fixed window a client can spend one window's budget at its end and the next one's at the start, so the worst
/// case is twice the limit over one period straddling a boundary. Leased requests a node did not use are lost
/// when the window ends, so a client that moves between nodes may get up to (N − 1) × lease fewer than the limit.
public final class SharedRateLimiter: Sendable {
    private struct LeaseKey: Hashable, Sendable {
        let subject: String
        let family: String
        let limit: RateLimit
    }

    private struct Lease: Sendable {
        var windowStart: Int64
        var remaining: Int
    }

    private let budget: any SharedRateBudget
    private let leases = ShardedMap<LeaseKey, Lease>(pruneThreshold: 8192)

    public init(budget: any SharedRateBudget) {
        self.budget = budget
    }

    /// Takes one request: nil when allowed, else milliseconds until the window ends. Throws when the shared budget
    /// cannot be read.
    public func take(subject: String, family: EndpointFamily, override: RateLimit?, now: Int64) async throws(StoreError) -> Int64? {
        let limit = override ?? family.limit
        guard case .limit(let requests, let period) = limit else { return nil }
        let windowStart = now - now % period
        let key = LeaseKey(subject: subject, family: family.name, limit: limit)
        let local = leases.withEntry(key, isStale: { $0.windowStart < windowStart }) { lease -> Bool in
            guard var current = lease, current.windowStart == windowStart, current.remaining > 0 else { return false }
            current.remaining -= 1
            lease = current
            return true
        }
        if local { return nil }
        let granted = try await budget.lease(
            subject: subject, family: family.name, windowStart: windowStart, limit: requests, want: max(1, requests / 4),
            expiresAt: windowStart + 2 * period, now: now)
        guard granted > 0 else { return max(1, windowStart + period - now) }
        leases.withEntry(key, isStale: { $0.windowStart < windowStart }) { lease in
            if var current = lease, current.windowStart == windowStart {
                current.remaining += granted - 1
                lease = current
            } else {
                lease = Lease(windowStart: windowStart, remaining: granted - 1)
            }
        }
        return nil
    }
}
