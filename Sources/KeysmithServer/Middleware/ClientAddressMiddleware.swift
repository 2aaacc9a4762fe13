import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Resolves the client IP for every request (public ones too) from the peer and trusted proxies.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let resolver: ClientAddressResolver

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientIP = resolver.clientIP(peer: context.peerAddress, forwardedFor: request.headers[.xForwardedFor])
        return try await next(request, context)
    }
}
