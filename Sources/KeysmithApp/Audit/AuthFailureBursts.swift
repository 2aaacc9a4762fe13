import KeysmithCore

/// Counts authentication failures per key and per client IP; the failure that reaches `threshold` within `window`
/// raises one `auth.failure_burst` alert for that subject, and no more until a new window starts.
///
/// ```swift
/// let bursts = AuthFailureBursts(policy: .init(threshold: 10, windowMilliseconds: 60_000))
/// if let burst = bursts.recordFailure(subject: "ip:203.0.113.9", now: now) { record.alert = .authFailureBurst }
/// ```
public final class AuthFailureBursts: Sendable {
    public struct Policy: Sendable, Hashable {
        public var threshold: Int
        public var windowMilliseconds: Int64

        /// 10 failures within 60 s.
        public init(threshold: Int = 10, windowMilliseconds: Int64 = 60_000) {
            self.threshold = max(1, threshold)
            self.windowMilliseconds = max(1, windowMilliseconds)
        }
    }

    /// A subject that just crossed the threshold.
    public struct Burst: Sendable, Hashable {
        public var subject: String
        public var failures: Int
    }

    private struct Window: Sendable {
        package var start: Int64
        package var failures: Int
    }

    public let policy: Policy
    private let windows = ShardedMap<String, Window>()

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Counts one failure of `subject` (`key:ID` or `ip:ADDRESS`); returns the burst when this one reaches the threshold.
    public func recordFailure(subject: String, now: Int64) -> Burst? {
        let policy = self.policy
        return windows.withEntry(subject, isStale: { now - $0.start > policy.windowMilliseconds }) { window in
            var value = window ?? Window(start: now, failures: 0)
            if now - value.start > policy.windowMilliseconds { value = Window(start: now, failures: 0) }
            value.failures += 1
            window = value
            return value.failures == policy.threshold ? Burst(subject: subject, failures: value.failures) : nil
        }
    }
}
