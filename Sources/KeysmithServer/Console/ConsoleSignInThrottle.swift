import KeysmithApp
import KeysmithCore

/// A per-client-network limit on console sign-in attempts (the password and the code form), taken before any bcrypt
/// or TOTP work: a token bucket per IPv4 address or IPv6 prefix, so that nobody can make the server spend bcrypt
/// time at will or run through an operator's lockout budget quickly. Over the limit: HTTP 429 and a console page.
///
/// ```swift
/// let throttle = ConsoleSignInThrottle(policy: .init())
/// if let retry = throttle.take(throttle.policy.network(of: context.clientIP), now: now) { /* 429, Retry-After */ }
/// ```
public struct ConsoleSignInThrottle: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Attempts per period per network: the burst, refilled evenly over the period; `.unlimited` turns it off.
        public var limit: RateLimit
        /// IPv6 clients count per prefix of this length (one subscriber usually holds a whole /64).
        public var ipv6PrefixLength: Int

        /// 5 attempts per 30 s per network: a burst of 5, then one every 6 s (10 a minute).
        public init(limit: RateLimit = .limit(requests: 5, periodMilliseconds: 30_000), ipv6PrefixLength: Int = 64) {
            self.limit = limit
            self.ipv6PrefixLength = ipv6PrefixLength
        }

        /// The network a client counts for: its IPv4 address, or its IPv6 prefix (`2001:db8:1:2::/64`); `unknown`
        /// without an address.
        public func network(of ip: IPAddress?) -> String {
            guard let ip else { return "unknown" }
            if ip.isIPv4 { return ip.description }
            return ip.clientNetwork(ipv6PrefixLength: ipv6PrefixLength).description + "/\(max(0, min(128, ipv6PrefixLength)))"
        }
    }

    public let policy: Policy
    private let limiter = RateLimiter()
    private static let family = EndpointFamily("console/sign-in", 5, per: 30_000)

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Takes one attempt from `network`'s budget: nil when allowed, else milliseconds until the next one.
    public func take(_ network: String, now: Int64) -> Int64? {
        limiter.take(subject: network, family: Self.family, override: policy.limit, now: now)
    }
}
