import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Signing in: the password form (a stateless token, throttled per client network, one answer for every refusal), the
/// TOTP code or enrolment, and signing out; and the operator's own two-factor settings. A stored session starts once
/// a password is accepted; it carries the user's session epoch, and ends when the user's second factor changes.
struct ConsoleSignInPages: ConsoleController {
    let shell: ConsoleShell

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("login", use: open { request, context in try await loginPage(request, context) })
        group.post("login", use: open { request, context in try await login(request, context) })
        group.get("login/code", use: open { _, context in try await codePage(context) })
        group.post("login/code", use: open { request, context in try await code(request, context) })
        group.get("totp", use: open { request, context in try await enrolPage(request, context) })
        group.post("totp", use: open { request, context in try await enrol(request, context) })
        group.post("logout", use: open { request, context in try await logout(request, context) })
        group.get("security", use: guarded { _, context in try await securityPage(context) })
        group.post("totp/disable", use: guarded { request, context in try await disableTOTP(request, context) })
    }

    func loginPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if try await currentUser(context) != nil { return redirect("/console") }
        return signInPage(request, ["title": "Sign in"])
    }

    /// The sign-in form with its token: the visitor's own while it is valid, else a new one in a new cookie. Nothing
    /// is stored.
    func signInPage(_ request: Request, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let current = request.cookies[SignInFormTokens.cookieName].map { String($0.value) }
        let token = current.flatMap { shell.signInTokens.isValid($0) ? $0 : nil } ?? shell.signInTokens.issue()
        var values = values
        values["csrf"] = token
        var response = pages.render("login", status: status, values, session: nil, user: nil)
        if token != current {
            let cookie = Cookie(
                name: SignInFormTokens.cookieName, value: token, path: "/console", secure: shell.secureCookies, httpOnly: true, sameSite: .strict)
            response.headers[values: .setCookie].append(cookie.description)
        }
        return response
    }

    /// The client network sign-in attempts and password failures count for.
    func network(_ context: AppRequestContext) -> String {
        shell.throttle.policy.network(of: context.clientIP)
    }

    /// A 429 page when the client's network is over its sign-in budget, taken before any form or bcrypt work.
    func throttled(_ context: AppRequestContext) -> Response? {
        guard let retry = shell.throttle.take(network(context), now: shell.clock.milliseconds) else { return nil }
        let seconds = max(1, (retry + 999) / 1000)
        let failure = ConsoleFailure(
            status: .tooManyRequests, title: "Too many sign-in attempts",
            message: "Too many sign-in attempts from your network. Wait \(seconds) s and try again.", link: "/console/login")
        var response = message(failure, context)
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if let refused = throttled(context) { return refused }
        let fields = try await signInForm(request)
        let email = fields["email"] ?? ""
        let anonymous = context.consoleOrigin(request, actor: "console:\(email.prefix(254))")
        let signedIn: ConsoleAuth.SignIn
        do {
            signedIn = try await auth.signIn(
                email: email, password: fields["password"] ?? "", network: network(context), origin: anonymous)
        } catch let error as ConsoleError {
            let values: [String: Any] = ["title": "Sign in", "form": ["email": email], "errors": [error.field: error.message]]
            return signInPage(request, values, status: .unauthorized)
        }
        // The first stored session of this visitor, with a new id (a planted one is worth nothing): a good moment to
        // drop the expired ones.
        try await shell.sessions.removeExpiredSessions(now: shell.clock.milliseconds)
        var fresh = ConsoleSession()
        fresh.userID = signedIn.userID
        fresh.epoch = signedIn.sessionEpoch
        fresh.stage = signedIn.next == .code ? .code : .enrol
        context.sessions.createSession(fresh)
        return redirect(signedIn.next == .code ? "/console/login/code" : "/console/totp")
    }

    func codePage(_ context: AppRequestContext) async throws -> Response {
        guard context.sessions.session?.stage == .code, try await sessionUser(context) != nil else { return redirect("/console/login") }
        return page("code", ["title": "Two-factor authentication"], context, user: nil)
    }

    func code(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if let refused = throttled(context) { return refused }
        let fields = try await form(request, context)
        guard var session = context.sessions.session, session.stage == .code, let user = try await sessionUser(context) else {
            return redirect("/console/login")
        }
        do {
            try await auth.verify(
                code: fields["code"] ?? "", userID: user.id, origin: context.consoleOrigin(request, actor: "console:\(user.email)"))
        } catch let error as ConsoleError {
            let values: [String: Any] = ["title": "Two-factor authentication", "errors": [error.field: error.message]]
            return page("code", values, context, user: nil, status: .unauthorized)
        }
        session.stage = .signedIn
        save(session, context)
        return redirect("/console")
    }

    func enrolPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard context.sessions.session?.stage == .enrol, let user = try await sessionUser(context) else { return redirect("/console/login") }
        let started: (uri: String, secret: String)
        do {
            started = try await auth.beginEnrolment(userID: user.id, origin: origin(request, context, user))
        } catch let error as ConsoleError where error == ConsoleAuth.alreadyEnrolled {
            return ended(error, context)
        }
        return page("enrol", enrolValues(started), context, user: nil)
    }

    /// Ends a session whose step no longer fits the user (their two-factor authentication is on by now).
    func ended(_ error: ConsoleError, _ context: AppRequestContext) -> Response {
        context.sessions.clearSession()
        return message(ConsoleFailure(status: .conflict, title: "Signed out", message: error.message, link: "/console/login"), context)
    }

    func enrolValues(_ started: (uri: String, secret: String)) -> [String: Any] {
        var values: [String: Any] = ["title": "Set up two-factor authentication", "uri": started.uri, "secret": started.secret]
        if let code = QRCode(started.uri) { values["qr"] = code.svg(title: "QR code of the set-up link") }
        return values
    }

    func enrol(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let fields = try await form(request, context)
        guard var session = context.sessions.session, session.stage == .enrol, let user = try await sessionUser(context) else {
            return redirect("/console/login")
        }
        do {
            session.epoch = try await auth.confirmEnrolment(
                userID: user.id, code: fields["code"] ?? "", origin: origin(request, context, user))
        } catch let error as ConsoleError where error == ConsoleAuth.alreadyEnrolled {
            return ended(error, context)
        } catch let error as ConsoleError {
            let started: (uri: String, secret: String)
            do {
                started = try await auth.beginEnrolment(userID: user.id, origin: origin(request, context, user))
            } catch let again as ConsoleError where again == ConsoleAuth.alreadyEnrolled {
                return ended(again, context)
            }
            var values = enrolValues(started)
            values["errors"] = [error.field: error.message + " A new key is shown: scan it again."]
            return page("enrol", values, context, user: nil, status: .unauthorized)
        }
        // Every other session of the user has ended with the epoch this one now carries.
        session.stage = .signedIn
        session.flash = "Two-factor authentication is on."
        save(session, context)
        return redirect("/console")
    }

    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try await form(request, context)
        context.sessions.clearSession()
        return redirect("/console/login")
    }

    func securityPage(_ context: AppRequestContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        let values: [String: Any] = ["title": "Security", "errors": errors, "totpEnabled": user.totpEnabled]
        return page("security", values, context, user: user, status: status)
    }

    /// Turns two-factor authentication off with a fresh code; the operator must enrol again before doing anything else.
    func disableTOTP(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let epoch: Int64
        do {
            epoch = try await auth.disableTOTP(userID: user.id, code: fields["code"] ?? "", origin: origin(request, context, user))
        } catch {
            return try await securityPage(context, errors: ["code": error.msg], status: .unauthorized)
        }
        // Every other session of the user has ended; this one continues under the new epoch, at enrolment.
        var session = self.session(context)
        session.stage = .enrol
        session.epoch = epoch
        save(session, context)
        return redirect("/console/totp")
    }
}
