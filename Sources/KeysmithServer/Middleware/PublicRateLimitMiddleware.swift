import Hummingbird
import KeysmithApp
import KeysmithCore

/// Limits public endpoints per client IP when the operator asks for it (`keysmith serve --public-rate-limit 20/s`):
/// 50011, HTTP 429 and `Retry-After` beyond the limit. Off by default.
struct PublicRateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limit: RateLimit
    let limiter: RateLimiter
    let clock: any WallClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let subject = context.clientIP?.description ?? "unknown"
        if let retry = limiter.take(subject: subject, family: .publicPerIP, override: limit, now: clock.milliseconds) {
            throw OKXError.tooManyRequests.retrying(after: retry)
        }
        return try await next(request, context)
    }
}
