/// A token bucket: holds up to `capacity` tokens, refilled continuously at `capacity` per period. Each request
/// takes one token; with none left, the answer is how long until one is back. Time is passed in, never read.
///
/// ```swift
/// var bucket = TokenBucket(requests: 5, periodMilliseconds: 2000, now: t)
/// bucket.take(at: t)          // nil: allowed
/// // … five takes later …
/// bucket.take(at: t)          // 400: retry in 400 ms
/// ```
public struct TokenBucket: Sendable, Hashable {
    public let capacity: Double
    /// Tokens added per millisecond.
    public let refillRate: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Int64

    public init(requests: Int, periodMilliseconds: Int64, now: Int64) {
        capacity = Double(requests)
        refillRate = Double(requests) / Double(periodMilliseconds)
        tokens = capacity
        updatedAt = now
    }

    /// Takes a token if one is available (nil), else leaves the bucket as it is and returns the milliseconds until
    /// the next token.
    public mutating func take(at now: Int64) -> Int64? {
        if now > updatedAt {
            tokens = min(capacity, tokens + Double(now - updatedAt) * refillRate)
            updatedAt = now
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int64(((1 - tokens) / refillRate).rounded(.up)))
    }

    /// True when the bucket would be full at `now`: it can be forgotten without changing any answer.
    public func isFull(at now: Int64) -> Bool {
        tokens + Double(max(0, now - updatedAt)) * refillRate >= capacity
    }
}
