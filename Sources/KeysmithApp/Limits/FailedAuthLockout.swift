import KeysmithCore

/// Locks out a client IP after repeated authentication failures: `threshold` failures within `window` lock that
/// IP (for IPv6, its /64 or the configured prefix) out for `cooldown` (50011, HTTP 429, `Retry-After`). Other IPs — the key's legitimate callers — are unaffected.
public final class FailedAuthLockout: Sendable {
    public struct Policy: Sendable {
        public var threshold: Int
        public var windowMilliseconds: Int64
        public var cooldownMilliseconds: Int64
        /// IPv6 clients are counted per network of this prefix length (one subscriber's /64 by default); IPv4
        /// clients per address.
        public var ipv6PrefixLength: Int

        /// 20 failures in 60 s lock an IP (an IPv6 /64) out for 5 minutes.
        public init(
            threshold: Int = 20, windowMilliseconds: Int64 = 60_000, cooldownMilliseconds: Int64 = 300_000, ipv6PrefixLength: Int = 64
        ) {
            self.threshold = threshold
            self.windowMilliseconds = windowMilliseconds
            self.cooldownMilliseconds = cooldownMilliseconds
            self.ipv6PrefixLength = ipv6PrefixLength
        }
    }

    private struct Record: Sendable {
        package var windowStart: Int64
        package var failures: Int
        package var lockedUntil: Int64?
    }

    public let policy: Policy
    private let records = ShardedMap<IPAddress, Record>()

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Milliseconds until `ip` may try again, or nil when it is not locked out.
    public func retryAfter(_ ip: IPAddress, now: Int64) -> Int64? {
        records.withEntry(ip.clientNetwork(ipv6PrefixLength: policy.ipv6PrefixLength), isStale: { self.isStale($0, now: now) }) { record in
            guard let until = record?.lockedUntil, until > now else { return nil }
            return until - now
        }
    }

    /// Counts one failure from `ip`; the one that reaches the threshold starts the cool-down.
    public func recordFailure(_ ip: IPAddress, now: Int64) {
        let policy = self.policy
        records.withEntry(ip.clientNetwork(ipv6PrefixLength: policy.ipv6PrefixLength), isStale: { self.isStale($0, now: now) }) { record in
            var value = record ?? Record(windowStart: now, failures: 0, lockedUntil: nil)
            if now - value.windowStart > policy.windowMilliseconds {
                value = Record(windowStart: now, failures: 0, lockedUntil: value.lockedUntil)
            }
            value.failures += 1
            if value.failures >= policy.threshold {
                value.lockedUntil = now + policy.cooldownMilliseconds
                value.failures = 0
                value.windowStart = now
            }
            record = value
        }
    }

    private func isStale(_ record: Record, now: Int64) -> Bool {
        now - record.windowStart > policy.windowMilliseconds && (record.lockedUntil ?? 0) <= now
    }

    /// Whether an authentication error counts as a failure: everything before the key is proven, and a proven key
    /// used from an address outside its allowlist. Environment (50101) and permission (50120) errors come from a
    /// caller that holds the secret, so they do not count.
    public static func counts(_ error: OKXError) -> Bool {
        error.code.hasPrefix("501") && error.code != OKXError.environmentMismatch.code
            && error.code != OKXError.keyLacksPermission.code
    }
}
