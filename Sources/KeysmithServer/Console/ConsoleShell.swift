import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import KeysmithStore
import NIOCore
import NIOHTTP1

/// What every console page needs, whichever services it uses: the operators (``ConsoleAuth``), the templates, the
/// session store, the clock, and the sign-in throttle and form tokens.
struct ConsoleShell: Sendable {
    let auth: ConsoleAuth
    let pages: ConsolePages
    /// Where sessions are kept (and expired ones dropped).
    let sessions: any ConsoleStore
    let clock: any WallClock
    let secureCookies: Bool
    let throttle: ConsoleSignInThrottle
    let signInTokens: SignInFormTokens

    init(
        auth: ConsoleAuth, pages: ConsolePages, sessions: any ConsoleStore, clock: any WallClock, formKey: [UInt8], secureCookies: Bool,
        signInLimit: ConsoleSignInThrottle.Policy
    ) {
        self.auth = auth
        self.pages = pages
        self.sessions = sessions
        self.clock = clock
        self.secureCookies = secureCookies
        self.throttle = ConsoleSignInThrottle(policy: signInLimit)
        self.signInTokens = SignInFormTokens(key: formKey, clock: clock)
    }
}

/// One group of console pages (sub-accounts and balances, keys, apps, withdrawals, audit, alerts, signing in): the
/// shell, the services its own pages use and nothing else, and the routes it adds to the console's group.
protocol ConsoleController: Sendable {
    var shell: ConsoleShell { get }
    func register(on group: RouterGroup<AppRequestContext>)
}

// The plumbing every page shares: sessions and their user, CSRF-checked forms, rendering, redirects and flashes.
extension ConsoleController {
    typealias Page = @Sendable (Request, AppRequestContext) async throws -> Response

    var auth: ConsoleAuth { shell.auth }
    var pages: ConsolePages { shell.pages }

    /// A page anyone may open (the sign-in steps).
    func open(_ body: @escaping Page) -> @Sendable (Request, AppRequestContext) async -> Response {
        { request, context in await handle(request, context, signedIn: false) { try await body(request, context) } }
    }

    /// A page for a signed-in operator.
    func guarded(_ body: @escaping Page) -> @Sendable (Request, AppRequestContext) async -> Response {
        { request, context in await handle(request, context, signedIn: true) { try await body(request, context) } }
    }

    /// Runs a page: loads the signed-in user (redirecting to sign-in when required and missing), renders
    /// failures as a page rather than an OKX error, and marks every console response uncacheable.
    func handle(
        _ request: Request, _ context: AppRequestContext, signedIn required: Bool = true, _ body: () async throws -> Response
    ) async -> Response {
        var response: Response
        do {
            if required, try await currentUser(context) == nil {
                response = redirect(context.sessions.session?.stage == .enrol ? "/console/totp" : "/console/login")
            } else {
                response = try await body()
            }
        } catch let error as ConsoleFailure {
            response = message(error, context)
        } catch is NIOTooManyBytesError {
            response = OKXError.bodyTooLarge.response()
        } catch is HTTPParserError {
            response = OKXError.incompleteRequest.response()
        } catch {
            context.logger.error("console page failed", metadata: ["error": "\(error)"])
            response = message(
                ConsoleFailure(
                    status: .internalServerError, title: "Something went wrong",
                    message: "The request could not be completed; nothing was changed.", link: "/console"), context)
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    func message(_ failure: ConsoleFailure, _ context: AppRequestContext) -> Response {
        let values: [String: Any] = ["title": failure.title, "message": failure.message, "link": failure.link, "linkText": "Continue"]
        return pages.render("message", status: failure.status, values, session: context.sessions.session, user: nil)
    }

    /// The session, created (with a fresh CSRF token) when there is none.
    func session(_ context: AppRequestContext) -> ConsoleSession {
        if let existing = context.sessions.session { return existing }
        let fresh = ConsoleSession()
        context.sessions.createSession(fresh)
        return fresh
    }

    /// Stores a changed session under its current id (a new id only when there was none).
    func save(_ session: ConsoleSession, _ context: AppRequestContext) {
        if !context.sessions.updateSession(session) { context.sessions.createSession(session) }
    }

    /// The session's user while the session is still theirs. A session whose epoch is behind the user's (their second
    /// factor changed since it was made) has ended: it is cleared, and nil returned.
    func sessionUser(_ context: AppRequestContext) async throws -> ConsoleUser? {
        guard let session = context.sessions.session, let id = session.userID else { return nil }
        guard let user = try await auth.user(id: id), user.sessionEpoch == session.epoch ?? 0 else {
            context.sessions.clearSession()
            return nil
        }
        return user
    }

    func currentUser(_ context: AppRequestContext) async throws -> ConsoleUser? {
        guard context.sessions.session?.stage == .signedIn else { return nil }
        return try await sessionUser(context)
    }

    func requireUser(_ context: AppRequestContext) async throws -> ConsoleUser {
        guard let user = try await currentUser(context) else { throw ConsoleFailure.expired }
        return user
    }

    /// The form fields, after checking the session's CSRF token (403 on mismatch: nothing happens).
    func form(_ request: Request, _ context: AppRequestContext) async throws -> FormFields {
        let fields = try await Self.fields(request)
        guard let session = context.sessions.session, let token = fields["csrf"], !token.isEmpty,
            Self.constantTimeEquals(token, session.csrf)
        else { throw ConsoleFailure.csrf }
        return fields
    }

    /// The sign-in form's fields, after checking its stateless token: the same valid token in the cookie and the form.
    func signInForm(_ request: Request) async throws -> FormFields {
        let fields = try await Self.fields(request)
        guard let token = fields["csrf"], let cookie = request.cookies[SignInFormTokens.cookieName],
            Self.constantTimeEquals(token, String(cookie.value)), shell.signInTokens.isValid(token)
        else { throw ConsoleFailure.csrf }
        return fields
    }

    static func fields(_ request: Request) async throws -> FormFields {
        let body = try await request.body.collect(upTo: 64 * 1024)
        return FormFields(String(buffer: body))
    }

    func origin(_ request: Request, _ context: AppRequestContext, _ user: ConsoleUser) -> AuditOrigin {
        context.consoleOrigin(request, actor: "console:\(user.email)")
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A page of the signed-in (or signing-in) session; without a session it is rendered without one (nothing stored).
    func page(_ name: String, _ values: [String: Any], _ context: AppRequestContext, user: ConsoleUser?, status: HTTPResponse.Status = .ok) -> Response {
        guard var session = context.sessions.session else { return pages.render(name, status: status, values, session: nil, user: user) }
        var values = values
        if let flash = session.flash {
            values["flash"] = flash
            session.flash = nil
            save(session, context)
        }
        return pages.render(name, status: status, values, session: session, user: user)
    }

    func flash(_ text: String, _ context: AppRequestContext) {
        var session = self.session(context)
        session.flash = text
        save(session, context)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
