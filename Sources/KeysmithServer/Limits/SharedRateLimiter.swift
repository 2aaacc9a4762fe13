import KeysmithCore
import KeysmithStore

/// Per-key rate limits that hold across the nodes of a shared database. Each node still runs its own token buckets
/// (``RateLimiter``); on top, a request needs a token from the key's bucket for the endpoint family in the database
/// (``SharedRateBudget``), the same bucket — same capacity, same refill — shared by all nodes.
///
/// A node takes tokens in leases and spends them from memory for at most a quarter of the period. A lease is sized
/// from demand: twice what the previous lease served, between 1 and a quarter of the limit, so a busy key needs a
/// database round trip only now and then and an idle one ties up almost nothing. Unspent tokens of an expired lease
/// go back with the next lease.
///
/// Bounds, with N nodes: tokens leave the shared bucket only when granted, so all nodes together never serve more
/// than one node's bucket would (no overshoot). Tokens sitting in a lease on a node the client has left are out of
/// reach until that node leases again, so a client moving between nodes may get up to (N − 1) × limit/4 fewer.
public final class SharedRateLimiter: Sendable {
    private struct LeaseKey: Hashable, Sendable {
        let subject: String
        let family: String
        let limit: RateLimit
    }

    private struct Lease: Sendable {
        var granted: Int
        var remaining: Int
        var usableUntil: Int64
    }

    private enum Local {
        case served
        case renew(returning: Int, lastServed: Int)
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
        let local = leases.withEntry(key, isStale: { $0.usableUntil < now - period }) { lease -> Local in
            guard var current = lease else { return .renew(returning: 0, lastServed: 0) }
            if current.usableUntil >= now, current.remaining > 0 {
                current.remaining -= 1
                lease = current
                return .served
            }
            // Hand the leftover of an expired lease to this renewal only (concurrent ones return nothing).
            let returning = current.usableUntil < now ? current.remaining : 0
            let served = current.granted - current.remaining
            current.remaining -= returning
            lease = current
            return .renew(returning: returning, lastServed: served)
        }
        guard case .renew(let returning, let lastServed) = local else { return nil }
        let want = min(max(1, requests / 4), max(1, 2 * lastServed))
        let lease = try await budget.lease(
            subject: subject, family: "\(family.name)|\(requests)/\(period)", capacity: requests, periodMilliseconds: period,
            want: want, returning: returning, now: now)
        guard lease.granted > 0 else { return lease.retryAfterMilliseconds }
        let usableUntil = now + max(1, period / 4)
        leases.withEntry(key, isStale: { $0.usableUntil < now - period }) { entry in
            if var current = entry, current.usableUntil >= now {
                // Another renewal landed meanwhile: keep both leases' tokens.
                current.granted += lease.granted
                current.remaining += lease.granted - 1
                current.usableUntil = max(current.usableUntil, usableUntil)
                entry = current
            } else {
                entry = Lease(granted: lease.granted, remaining: lease.granted - 1, usableUntil: usableUntil)
            }
        }
        return nil
    }
}
