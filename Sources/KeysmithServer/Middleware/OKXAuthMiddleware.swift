import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Authenticates private OKX routes: reads the raw body (the signature covers it byte for byte), resolves the
/// client IP, runs ``RequestAuthenticator`` requiring `permission`, and stores the key in the context.
///
/// One instance per permission level guards a router group:
/// ```swift
/// let trade = router.group("api/v5").add(middleware: OKXAuthMiddleware(requiring: .trade, ...))
/// ```
struct OKXAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let permission: Permissions
    let authenticator: RequestAuthenticator
    let cacheLoader: KeyCacheLoader
    let clock: any WallClock
    let maximumBodySize: Int
    /// When set, requests are refused with 50001 while the key cache has not confirmed the store's state within this
    /// long (a node cut off from a shared database must not keep accepting keys revoked elsewhere).
    let freshnessBound: Duration?
    /// Replay protection across nodes: a signed POST accepted here is recorded in the shared database too.
    let sharedReplay: (any SharedReplayRegistry)?
    /// Rate limits across nodes, checked after this node's own buckets.
    let sharedLimits: SharedRateLimiter?

    init(
        requiring permission: Permissions, authenticator: RequestAuthenticator, cacheLoader: KeyCacheLoader, clock: any WallClock,
        maximumBodySize: Int, freshnessBound: Duration? = nil, sharedReplay: (any SharedReplayRegistry)? = nil,
        sharedLimits: SharedRateLimiter? = nil
    ) {
        self.sharedLimits = sharedLimits
        self.sharedReplay = sharedReplay
        self.freshnessBound = freshnessBound
        self.permission = permission
        self.authenticator = authenticator
        self.cacheLoader = cacheLoader
        self.clock = clock
        self.maximumBodySize = maximumBodySize
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let arrival = ContinuousClock.now
        if let freshnessBound, !cacheLoader.cache.isFresh(within: freshnessBound, now: arrival) {
            throw OKXError.serviceUnavailable
        }
        var request = request
        var context = context
        context.facts.markGuarded()
        // OKX signs an empty body for GET; only requests that carry one are read.
        if request.method != .get && request.method != .head {
            context.body = try await request.collectBody(upTo: maximumBodySize)
        }
        var signed = SignedRequest(
            headers: request.headers, method: request.method.rawValue, target: request.uri.string, body: context.body,
            clientIP: context.clientIP)
        if let peer = context.peerAddress, context.clientIP != peer { signed.forwardedBy = peer }
        if request.method == .get || request.method == .head {
            signed.hasUnsignedBody = request.headers[.transferEncoding] != nil || (request.headers[.contentLength].map { $0 != "0" } ?? false)
        }
        if authenticator.isUnknown(signed.accessKey) {
            // Perhaps created a moment ago by another process: wait for a (coalesced) refresh, then decide.
            await cacheLoader.refresh(coveringArrivalAt: arrival)
        }
        let family = EndpointFamily.of(method: request.method.rawValue, routePath: context.endpointPath)
        let now = clock.milliseconds
        let authenticated = try authenticator.authenticate(signed, now: now, requiring: permission, family: family)
        let key = authenticated.key
        context.authenticated = key
        if let sharedLimits {
            let retry: Int64?
            do {
                retry = try await sharedLimits.take(subject: key.key.apiKey, family: family, override: key.key.rateLimit, now: now)
            } catch {
                throw OKXError.serviceUnavailable
            }
            if let retry { throw OKXError.tooManyRequests.retrying(after: retry) }
        }
        if let sharedReplay, let content = authenticated.signedContent {
            // Valid timestamps are at most one window old or ahead: remembered for two windows, they cannot come back.
            let firstUse: Bool
            do {
                firstUse = try await sharedReplay.firstUse(content, expiresAt: now + 2 * OKXTimestamp.window, now: now)
            } catch {
                throw OKXError.serviceUnavailable
            }
            guard firstUse else { throw OKXError.repeatedRequest }
        }
        return try await next(request, context)
    }
}

