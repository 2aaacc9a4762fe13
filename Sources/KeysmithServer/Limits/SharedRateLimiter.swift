import KeysmithCore
import KeysmithStore

/// Per-key rate limits that hold across the nodes of a shared database. Each node still runs its own token buckets
/// (``RateLimiter``); on top, a request needs a token from the key's bucket for the endpoint family in the database
/// (``SharedRateBudget``), the same bucket — same capacity, same refill — shared by all nodes. A node takes tokens
/// in leases of up to a quarter of the capacity and spends them from memory for at most a quarter of the period,
/// so only about one request in `limit / 4` waits for the database.
///
/// Bounds, with N nodes: tokens leave the shared bucket only when granted, so all nodes together never serve more
/// than one node's bucket would (no overshoot). Leased tokens a node does not spend in time lapse, so a client
/// moving between nodes may get up to (N − 1) × limit/4 fewer requests than the limit in a period.
public final class SharedRateLimiter: Sendable {
    private struct LeaseKey: Hashable, Sendable {
        let subject: String
        let family: String
        let limit: RateLimit
    }

    private struct Lease: Sendable {
        var remaining: Int
        var usableUntil: Int64
    }

    private let budget: any SharedRateBudget
    private let leases = ShardedMap<LeaseKey, Lease>(pruneThreshold: 8192)

    public init(budget: any SharedRateBudget) {
        self.budget = budget
    }

    /// Takes one request: nil when allowed, else milliseconds until a token is there. Throws when the shared budget
    /// cannot be read.
    public func take(subject: String, family: EndpointFamily, override: RateLimit?, now: Int64) async throws(StoreError) -> Int64? {
        let limit = override ?? family.limit
        guard case .limit(let requests, let period) = limit else { return nil }
        let key = LeaseKey(subject: subject, family: family.name, limit: limit)
        let local = leases.withEntry(key, isStale: { $0.usableUntil < now }) { lease -> Bool in
            guard var current = lease, current.usableUntil >= now, current.remaining > 0 else { return false }
            current.remaining -= 1
            lease = current
            return true
        }
        if local { return nil }
        let lease = try await budget.lease(
            subject: subject, family: "\(family.name)|\(requests)/\(period)", capacity: requests, periodMilliseconds: period,
            want: max(1, requests / 4), now: now)
        guard lease.granted > 0 else { return lease.retryAfterMilliseconds }
        let usableUntil = now + max(1, period / 4)
        leases.withEntry(key, isStale: { $0.usableUntil < now }) { entry in
            if var current = entry, current.usableUntil >= now {
                current.remaining += lease.granted - 1
                entry = current
            } else {
                entry = Lease(remaining: lease.granted - 1, usableUntil: usableUntil)
            }
        }
        return nil
    }
}
