import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Logging
import NIOCore
import NIOHTTP1

/// The outermost middleware: turns every error into an OKX envelope with the right HTTP status (never an HTML
/// page), adds the request id and server time headers (`x-server-time`, milliseconds, so a client can correct its
/// clock from any answer), and logs one line per request — method, path without query, status, OKX
/// code, latency, client IP and the key's public id. Never a header value, signature, passphrase or body. Private
/// requests go to the ``RequestAuditor`` (nil: audit of reads turned off).
struct OKXErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let auditor: RequestAuditor?
    let clock: any WallClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = context.started
        var response: Response
        var code = "0"
        do {
            response = try await next(request, context)
        } catch let error as OKXError {
            code = error.code
            response = error.response()
        } catch let error as HTTPError {
            let mapped = Self.okxError(for: error)
            code = mapped.code
            response = mapped.response()
        } catch is NIOTooManyBytesError {
            // A body over the limit is the client's error: 413 with an OKX envelope, nothing logged as an error.
            code = OKXError.bodyTooLarge.code
            response = OKXError.bodyTooLarge.response()
        } catch is HTTPParserError {
            // A body cut short (the client stopped sending and its connection was closed) or malformed: the client's.
            let error = OKXError.incompleteRequest
            code = error.code
            response = error.response()
        } catch {
            code = OKXError.systemError.code
            context.logger.error("unhandled error", metadata: ["error": "\(Self.describe(error))"])
            response = OKXError.systemError.response()
        }
        let requestID = context.id
        response.headers[.requestID] = requestID
        response.headers[.serverTime] = String(clock.milliseconds)
        if code == "0", let results = context.facts.snapshot.itemResults { code = results }
        let elapsed = ContinuousClock.now - start
        let audited = await auditor?.record(request, context: context, requestID: requestID, code: code, elapsed: elapsed) ?? false
        // A successful request that the audit log records is logged at debug: the audit event holds every field of
        // the line. Failures stay at info, so an operator watching the log still sees them.
        context.logger.log(
            level: audited && RequestAuditor.succeeded(code) ? .debug : .info,
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "code": "\(code)", "ms": "\(Self.milliseconds(elapsed))",
                "ip": "\((context.facts.clientIP ?? context.peerAddress)?.description ?? "-")",
                "apiKey": "\(context.facts.apiKey ?? "-")",
            ])
        return response
    }

    static func okxError(for error: HTTPError) -> OKXError {
        switch error.status {
        case .notFound: return .endpointNotFound
        case .methodNotAllowed: return .invalidMethod
        case .contentTooLarge: return .bodyTooLarge
        case .badRequest: return .parameterError("request").with(message: error.body ?? "Bad request")
        default: return OKXError(code: "50026", message: "System error. Try again later", httpStatus: Int(error.status.code))
        }
    }

    /// A duration in milliseconds with microsecond precision, for the log.
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds / 1_000_000_000_000) / 1000
    }

    /// Store errors have safe descriptions; anything else is logged by type only.
    static func describe(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.description }
        return String(describing: type(of: error))
    }
}
