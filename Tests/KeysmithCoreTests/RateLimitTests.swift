import KeysmithCore
import Testing

struct RateLimitTests {
    @Test(arguments: [
        ("unlimited", RateLimit.unlimited, "unlimited"), ("UNLIMITED", .unlimited, "unlimited"),
        ("100/s", .limit(requests: 100, periodMilliseconds: 1000), "100/s"),
        ("20/2s", .limit(requests: 20, periodMilliseconds: 2000), "20/2s"),
        ("5/500ms", .limit(requests: 5, periodMilliseconds: 500), "5/500ms"),
        ("600/m", .limit(requests: 600, periodMilliseconds: 60_000), "600/m"),
        ("1/1000ms", .limit(requests: 1, periodMilliseconds: 1000), "1/s"),
    ])
    func parsesAndPrints(_ text: String, _ expected: RateLimit, _ canonical: String) throws {
        let limit = try RateLimit(parsing: text)
        #expect(limit == expected)
        #expect(limit.text == canonical)
        #expect(try RateLimit(parsing: limit.text) == limit)
    }

    @Test(arguments: ["", "100", "0/s", "-1/s", "10/", "10/h", "10/0s", "ten/s", "10/s/s", "10000000/s", "1/100000m"])
    func rejects(_ text: String) {
        #expect(throws: OKXError.self) { try RateLimit(parsing: text) }
    }
}

struct TokenBucketTests {
    @Test
    func allowsABurstThenAsksToWait() {
        var bucket = TokenBucket(requests: 5, periodMilliseconds: 2000, now: 0)
        for _ in 0..<5 { #expect(bucket.take(at: 0) == nil) }
        // One token comes back every 400 ms.
        #expect(bucket.take(at: 0) == 400)
        #expect(bucket.take(at: 100) == 300)
        #expect(bucket.take(at: 400) == nil)
        #expect(bucket.take(at: 400) == 400)
    }

    @Test
    func refillsToCapacityOnly() {
        var bucket = TokenBucket(requests: 2, periodMilliseconds: 1000, now: 0)
        #expect(bucket.take(at: 0) == nil)
        #expect(bucket.isFull(at: 500))
        // A long pause does not bank more than the capacity.
        for _ in 0..<2 { #expect(bucket.take(at: 100_000) == nil) }
        #expect(bucket.take(at: 100_000) != nil)
        #expect(!bucket.isFull(at: 100_000))
    }

    @Test
    func aRefusedRequestTakesNothing() {
        var bucket = TokenBucket(requests: 1, periodMilliseconds: 1000, now: 0)
        #expect(bucket.take(at: 0) == nil)
        for _ in 0..<10 { #expect(bucket.take(at: 0) == 1000) }
        #expect(bucket.take(at: 1000) == nil)
    }

    @Test
    func clockGoingBackwardsChangesNothing() {
        var bucket = TokenBucket(requests: 1, periodMilliseconds: 1000, now: 5000)
        #expect(bucket.take(at: 5000) == nil)
        #expect(bucket.take(at: 4000) == 1000)
    }
}
