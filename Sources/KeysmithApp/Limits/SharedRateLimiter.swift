import KeysmithCore
import KeysmithStore

/// Per-key rate limits that hold across the nodes of a shared database. Each node still runs its own token buckets
/// (``RateLimiter``); on top, a request needs a token from the key's bucket for the endpoint family in the database
/// (``SharedRateBudget``), the same bucket — same capacity, same refill — shared by all nodes.
///
/// A node takes tokens in leases and spends them from memory for at most a quarter of the period. A lease is sized
/// from demand: twice what the previous lease served, at least 8 and at most a quarter of the limit, so a busy key needs a
/// database round trip only now and then and an idle one ties up almost nothing. One renewal per key is in flight
/// at a time (concurrent requests wait for it), and unspent tokens of an expired lease go back with the next one.
/// When the shared bucket is empty, requests are refused from memory until it has refilled.
///
/// Bounds, with N nodes: tokens leave the shared bucket only when granted, so all nodes together never serve more
/// than one node's bucket would (no overshoot). Tokens sitting in a lease on a node the client has left are out of
/// reach until they expire and that node leases again, so a client moving between nodes may get up to
/// (N − 1) × limit/4 fewer requests in a period.
public final class SharedRateLimiter: Sendable {
    private struct LeaseKey: Hashable, Sendable {
        package let subject: String
        package let family: String
        package let limit: RateLimit
    }

    private struct Lease: Sendable {
        package var granted = 0
        package var remaining = 0
        package var usableUntil: Int64 = .min
        /// The shared bucket was empty: refuse from memory until then.
        package var refusedUntil: Int64 = .min
        /// The renewal in flight; true when it reached the database.
        package var renewal: Task<Bool, Never>?
    }

    private enum Step {
        case served
        case refused(retryAfter: Int64)
        case wait(Task<Bool, Never>)
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
        // Waiters whose renewal was spent by others wait for the next one (each renewal is larger than the last).
        for _ in 0..<20 {
            let step = leases.withEntry(key, isStale: { $0.usableUntil < now - period && $0.renewal == nil }) { entry -> Step in
                var current = entry ?? Lease()
                defer { entry = current }
                if current.usableUntil >= now, current.remaining > 0 {
                    current.remaining -= 1
                    return .served
                }
                if let renewal = current.renewal { return .wait(renewal) }
                if current.refusedUntil > now { return .refused(retryAfter: current.refusedUntil - now) }
                // Hand an expired lease's leftover back with this renewal.
                let returning = current.usableUntil < now ? current.remaining : 0
                let want = min(max(1, requests / 4), max(8, 2 * (current.granted - current.remaining)))
                current.remaining -= returning
                let renewal = Task {
                    await self.renew(key, requests: requests, period: period, want: want, returning: returning, now: now)
                }
                current.renewal = renewal
                return .wait(renewal)
            }
            switch step {
            case .served:
                return nil
            case .refused(let retryAfter):
                return retryAfter
            case .wait(let renewal):
                guard await renewal.value else { throw StoreError.database("the shared rate-limit budget cannot be read") }
            }
        }
        return 1
    }

    /// Asks the shared bucket for a lease and records the outcome; false when the database could not be reached.
    private func renew(_ key: LeaseKey, requests: Int, period: Int64, want: Int, returning: Int, now: Int64) async -> Bool {
        let outcome: RateLease?
        do {
            outcome = try await budget.lease(
                subject: key.subject, family: "\(key.family)|\(requests)/\(period)", capacity: requests, periodMilliseconds: period,
                want: want, returning: returning, now: now)
        } catch {
            outcome = nil
        }
        leases.withEntry(key, isStale: { _ in false }) { entry in
            var current = entry ?? Lease()
            current.renewal = nil
            if let outcome, outcome.granted > 0 {
                if current.usableUntil < now { current.granted = 0; current.remaining = 0 }
                current.granted += outcome.granted
                current.remaining += outcome.granted
                current.usableUntil = now + max(1, period / 4)
                current.refusedUntil = .min
            } else if let outcome {
                current.refusedUntil = now + outcome.retryAfterMilliseconds
            }
            entry = current
        }
        return outcome != nil
    }
}
