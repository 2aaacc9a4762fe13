import KeysmithCore

/// Token buckets, one per subject (an API key, or a client IP for public endpoints) and endpoint family. A key's own override (``APIKey/rateLimit``) replaces
/// the family's default; `unlimited` skips the buckets entirely.
///
/// ```swift
/// if let retry = limiter.take(apiKey: key.apiKey, family: family, override: key.rateLimit, now: now) {
///     throw OKXError.tooManyRequests.retrying(after: retry)
/// }
/// ```
public final class RateLimiter: Sendable {
    private struct BucketKey: Hashable, Sendable {
        package let subject: String
        package let family: String
        /// The limit the bucket was made for: a key whose limit changes gets a fresh bucket.
        package let limit: RateLimit
    }

    private let buckets = ShardedMap<BucketKey, TokenBucket>()

    public init() {}

    /// Takes one request from the subject's budget for the family: nil when allowed, else milliseconds until retry.
    public func take(subject: String, family: EndpointFamily, override: RateLimit?, now: Int64) -> Int64? {
        let limit = override ?? family.limit
        guard case .limit(let requests, let period) = limit else { return nil }
        let key = BucketKey(subject: subject, family: family.name, limit: limit)
        return buckets.withEntry(key, isStale: { $0.isFull(at: now) }) { bucket in
            var value = bucket ?? TokenBucket(requests: requests, periodMilliseconds: period, now: now)
            let retry = value.take(at: now)
            bucket = value
            return retry
        }
    }
}

/// A group of endpoints that share a rate-limit budget, with OKX's default limit for it.
public struct EndpointFamily: Sendable, Hashable {
    public let name: String
    public let limit: RateLimit

    public init(_ name: String, _ requests: Int, per periodMilliseconds: Int64) {
        self.name = name
        self.limit = .limit(requests: requests, periodMilliseconds: periodMilliseconds)
    }

    private struct Route: Hashable {
        package let method: String
        package let path: String

        package init(_ text: String) {
            let parts = text.split(separator: " ", maxSplits: 1)
            method = String(parts[0])
            path = parts.count > 1 ? String(parts[1]) : ""
        }

        package init(method: String, path: String) {
            self.method = method
            self.path = path
        }
    }

    /// OKX's published limits (okx-v5.md §4.1), by route. Endpoints not listed share `other`.
    private static let okx: [Route: EndpointFamily] = Dictionary(uniqueKeysWithValues: okxTable.map { (Route($0.key), $0.value) })

    private static let okxTable: [String: EndpointFamily] = [
        "GET /api/v5/account/config": EndpointFamily("account/config", 5, per: 2000),
        "GET /api/v5/account/balance": EndpointFamily("account/balance", 10, per: 2000),
        "GET /api/v5/users/subaccount/list": EndpointFamily("users/subaccount/list", 2, per: 2000),
        "POST /api/v5/users/subaccount/create-subaccount": EndpointFamily("users/subaccount/create-subaccount", 1, per: 1000),
        "POST /api/v5/users/subaccount/apikey": EndpointFamily("users/subaccount/apikey:write", 1, per: 1000),
        "GET /api/v5/users/subaccount/apikey": EndpointFamily("users/subaccount/apikey:read", 20, per: 2000),
        "POST /api/v5/users/subaccount/modify-apikey": EndpointFamily("users/subaccount/modify-apikey", 1, per: 1000),
        "POST /api/v5/users/subaccount/delete-apikey": EndpointFamily("users/subaccount/delete-apikey", 1, per: 1000),
        "GET /api/v5/asset/balances": EndpointFamily("asset/balances", 6, per: 1000),
        "GET /api/v5/asset/currencies": EndpointFamily("asset/currencies", 6, per: 1000),
        "GET /api/v5/asset/deposit-address": EndpointFamily("asset/deposit-address", 6, per: 1000),
        "GET /api/v5/asset/deposit-history": EndpointFamily("asset/deposit-history", 6, per: 1000),
        "POST /api/v5/asset/transfer": EndpointFamily("asset/transfer", 2, per: 1000),
        "GET /api/v5/asset/transfer-state": EndpointFamily("asset/transfer-state", 10, per: 1000),
        "GET /api/v5/account/subaccount/balances": EndpointFamily("account/subaccount/balances", 6, per: 2000),
        "GET /api/v5/asset/subaccount/balances": EndpointFamily("asset/subaccount/balances", 6, per: 2000),
        "POST /api/v5/asset/subaccount/transfer": EndpointFamily("asset/subaccount/transfer", 1, per: 1000),
        "POST /api/v5/asset/withdrawal": EndpointFamily("asset/withdrawal", 6, per: 1000),
        "POST /api/v5/asset/cancel-withdrawal": EndpointFamily("asset/cancel-withdrawal", 6, per: 1000),
        "GET /api/v5/asset/withdrawal-history": EndpointFamily("asset/withdrawal-history", 6, per: 1000),
        "POST /api/v5/trade/order": EndpointFamily("trade/order", 60, per: 2000),
        "POST /api/v5/trade/batch-orders": EndpointFamily("trade/batch-orders", 300, per: 2000),
        "POST /api/v5/trade/cancel-order": EndpointFamily("trade/cancel-order", 60, per: 2000),
        "POST /api/v5/trade/cancel-batch-orders": EndpointFamily("trade/cancel-batch-orders", 300, per: 2000),
        "POST /api/v5/trade/amend-order": EndpointFamily("trade/amend-order", 60, per: 2000),
        "POST /api/v5/trade/amend-batch-orders": EndpointFamily("trade/amend-batch-orders", 300, per: 2000),
        "GET /api/v5/trade/order": EndpointFamily("trade/order:read", 60, per: 2000),
        "GET /api/v5/trade/orders-pending": EndpointFamily("trade/orders-pending", 60, per: 2000),
        "GET /api/v5/trade/orders-history": EndpointFamily("trade/orders-history", 40, per: 2000),
        "GET /api/v5/trade/fills": EndpointFamily("trade/fills", 60, per: 2000),
        "GET /api/v5/trade/fills-history": EndpointFamily("trade/fills-history", 10, per: 2000),
        "GET /api/v5/trade/orders-history-archive": EndpointFamily("trade/orders-history-archive", 20, per: 2000),
        "GET /api/v5/account/bills": EndpointFamily("account/bills", 5, per: 1000),
        "GET /api/v5/account/bills-archive": EndpointFamily("account/bills-archive", 5, per: 2000),
        "GET /api/v5/account/trade-fee": EndpointFamily("account/trade-fee", 5, per: 2000),
    ]

    /// Public endpoints, when the operator limits them per client IP (`serve --public-rate-limit`).
    public static let publicPerIP = EndpointFamily("public", 1, per: 1000)

    /// Endpoints without a published limit.
    public static let other = EndpointFamily("other", 10, per: 1000)

    /// The family of a matched route.
    public static func of(method: String, routePath: String?) -> EndpointFamily {
        guard let routePath else { return other }
        return okx[Route(method: method, path: routePath)] ?? other
    }
}
