import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Mustache
import NIOCore
import NIOHTTP1

/// The web console under `/console`: server-rendered HTML forms, no JavaScript. Sign-in is email + password
/// (bcrypt) and a TOTP code; TOTP enrolment is required before anything else. Sessions are stored only once a
/// password was accepted: the sign-in form carries a signed, stateless token (``SignInFormTokens``), every later form
/// the session's CSRF token. Sign-in attempts are throttled per client network before any bcrypt work. Every action
/// goes through the same services as the API and CLI and is audited with `console:EMAIL` as the actor.
struct ConsoleRoutes {
    let installation: Installation
    /// The console's operators: passwords, TOTP, sessions.
    let auth: ConsoleAuth
    let pages: ConsolePages
    let secureCookies: Bool
    let throttle: ConsoleSignInThrottle
    let signInTokens: SignInFormTokens

    init(
        installation: Installation, auth: ConsoleAuth, pages: ConsolePages, secureCookies: Bool, signInLimit: ConsoleSignInThrottle.Policy
    ) {
        self.installation = installation
        self.auth = auth
        self.pages = pages
        self.secureCookies = secureCookies
        self.throttle = ConsoleSignInThrottle(policy: signInLimit)
        self.signInTokens = SignInFormTokens(key: installation.consoleFormKey, clock: installation.clock)
    }

    func register(on router: Router<AppRequestContext>) {
        let cookie = SessionCookieParameters(name: "keysmith_console", path: "/console", secure: secureCookies, sameSite: .strict)
        let group = router.group("console").add(
            middleware: SessionMiddleware(
                storage: ConsoleSessionStorage(store: installation.consoleStore, clock: installation.clock),
                configuration: .init(sessionCookieParameters: cookie, keyPrefix: "s.", defaultSessionExpiration: .seconds(8 * 3600))))

        group.get("login", use: open { request, context in try await loginPage(request, context) })
        group.post("login", use: open { request, context in try await login(request, context) })
        group.get("login/code", use: open { _, context in try await codePage(context) })
        group.post("login/code", use: open { request, context in try await code(request, context) })
        group.get("totp", use: open { request, context in try await enrolPage(request, context) })
        group.post("totp", use: open { request, context in try await enrol(request, context) })
        group.post("logout", use: open { request, context in try await logout(request, context) })

        group.get("", use: guarded { _, context in try await dashboard(context) })
        group.get("subaccounts", use: guarded { _, context in try await subAccountsPage(context) })
        group.post("subaccounts", use: guarded { request, context in try await createSubAccount(request, context) })
        group.get("keys", use: guarded { _, context in try await keysPage(context) })
        group.get("keys/new", use: guarded { _, context in try await newKeyPage(context) })
        group.post("keys", use: guarded { request, context in try await createKey(request, context) })
        group.get("keys/:apiKey/revoke", use: guarded { _, context in try await revokePage(context, apiKey: context.parameters.get("apiKey") ?? "") })
        group.post("keys/:apiKey/revoke", use: guarded { request, context in
            try await revoke(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        registerOperations(group)
    }

    typealias Page = @Sendable (Request, AppRequestContext) async throws -> Response

    /// A page anyone may open (the sign-in steps).
    func open(_ body: @escaping Page) -> @Sendable (Request, AppRequestContext) async -> Response {
        { request, context in await handle(request, context, signedIn: false) { try await body(request, context) } }
    }

    /// A page for a signed-in operator.
    func guarded(_ body: @escaping Page) -> @Sendable (Request, AppRequestContext) async -> Response {
        { request, context in await handle(request, context, signedIn: true) { try await body(request, context) } }
    }

    // MARK: Plumbing

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
            Self.constantTimeEquals(token, String(cookie.value)), signInTokens.isValid(token)
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

    // MARK: Pages

    func dashboard(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        var values = try await ConsoleViews(installation: installation).dashboard()
        values["title"] = "Dashboard"
        return page("dashboard", values, context, user: user)
    }

    func subAccountsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        let accounts = try await installation.accounts.subAccounts().map(ConsoleViews.account)
        let values: [String: Any] = ["title": "Sub-accounts", "accounts": accounts, "form": form, "errors": errors]
        return page("subaccounts", values, context, user: user, status: status)
    }

    func createSubAccount(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let name = fields["name"] ?? ""
        let subRequest = SubAccountRequest(
            name: name, label: fields["label"] ?? "", level: AccountLevel(rawValue: fields["acctLv"] ?? "2") ?? .spotAndFutures,
            positionMode: PositionMode(rawValue: fields["posMode"] ?? "net_mode") ?? .net, depositsAllowed: fields["deposits"] == "on",
            canTransferOut: fields["transferOut"] == "on")
        do {
            _ = try await installation.accounts.createSubAccount(subRequest, origin: origin(request, context, user))
        } catch {
            return try await subAccountsPage(
                context, form: ["name": name, "label": fields["label"] ?? ""], errors: ["name": error.msg], status: .badRequest)
        }
        flash("Sub-account \(name) created.", context)
        return redirect("/console/subaccounts")
    }

    func keysPage(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let keys = try await ConsoleViews(installation: installation).keys()
        return page("keys", ["title": "API keys", "keys": keys], context, user: user)
    }

    func newKeyPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        var session = self.session(context)
        session.keyForm = KeyMaterial.randomBytes(16).lowercaseHex
        save(session, context)
        let views = ConsoleViews(installation: installation)
        var values: [String: Any] = ["title": "Create API key", "errors": errors, "keyForm": session.keyForm ?? ""]
        values["accounts"] = try await views.accountChoices(selected: form["account"])
        values["apps"] = try await views.appChoices(selected: form["app"])
        values["purposeApp"] = (form["purpose"] ?? "app") == "app"
        var shown: [String: Any] = [:]
        shown["label"] = form["label"] ?? ""
        shown["ip"] = form["ip"] ?? ""
        shown["trade"] = form["trade"] == "on"
        shown["withdraw"] = form["withdraw"] == "on"
        values["form"] = shown
        return page("key-new", values, context, user: user, status: status)
    }

    func createKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        var session = self.session(context)
        guard let token = session.keyForm, fields["keyForm"] == token else {
            flash("That form was already submitted; no second key was created.", context)
            return redirect("/console/keys")
        }
        let again: ([String: String]) async throws -> Response = { errors in
            try await newKeyPage(context, form: fields.values, errors: errors, status: .badRequest)
        }
        var permissions = Permissions.readOnly
        if fields["trade"] == "on" { permissions.insert(.trade) }
        if fields["withdraw"] == "on" { permissions.insert(.withdraw) }
        if permissions.contains(.withdraw) {
            do {
                try await auth.verify(code: fields["code"] ?? "", userID: user.id, origin: origin(request, context, user))
            } catch let error as ConsoleError {
                return try await again(["code": "Withdraw permission needs a fresh authenticator code: " + error.message])
            }
        }
        let account: Account
        do {
            let choice = fields["account"] ?? "master"
            account = choice == "master" ? try await installation.accounts.master() : try await installation.accounts.subAccount(named: choice)
        } catch {
            return try await again(["account": error.msg])
        }
        let label = (fields["label"] ?? "").trimmingCharacters(in: .whitespaces)
        let passphrase = (fields["passphrase"] ?? "").isEmpty ? nil : fields["passphrase"]
        var keyRequest: NewKeyRequest
        do {
            if fields["purpose"] == "app", let appName = fields["app"], !appName.isEmpty {
                let app = try await installation.apps.app(named: appName)
                keyRequest = NewKeyRequest(account: account, label: label, linking: app, permissions: permissions, passphrase: passphrase)
            } else {
                let ips = (fields["ip"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).joined(separator: ",")
                let allowlist: IPAllowlist
                do { allowlist = try IPAllowlist(okx: ips) } catch { return try await again(["ip": error.msg]) }
                keyRequest = NewKeyRequest(account: account, label: label, permissions: permissions, allowlist: allowlist, passphrase: passphrase)
            }
        } catch {
            return try await again(["app": error.msg])
        }
        let created: CreatedKey
        do {
            created = try await installation.keys.create(keyRequest, origin: origin(request, context, user))
        } catch {
            return try await again([error.field(in: Self.keyFormFields, default: "label"): error.msg])
        }
        session.keyForm = nil
        save(session, context)
        // The one page that shows the secret: rendered in this response only, never stored, never cached.
        let shown = ConsoleViews.oneTimeKey("API key created", created.credentials, created.key, of: account)
        return page("key-created", shown, context, user: user)
    }

    /// The fields of the new-key form that can show an error.
    static let keyFormFields: Set<String> = ["account", "label", "passphrase", "perm", "ip", "app", "code"]

    func revokePage(_ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        guard let key = try await ConsoleViews(installation: installation).key(apiKey), key.revokedAt == nil else { throw ConsoleFailure.noSuchKey }
        let owner = try await installation.keys.owner(of: apiKey)
        let values: [String: Any] = ["title": "Revoke API key", "apiKey": apiKey, "label": key.label, "account": ConsoleViews.name(owner)]
        return page("key-revoke", values, context, user: user)
    }

    func revoke(_ request: Request, _ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        do {
            try await installation.keys.revoke(apiKey: apiKey, reason: fields["reason"].flatMap { $0.isEmpty ? nil : $0 } ?? "revoked in the console", origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not revoked", message: error.msg, link: "/console/keys")
        }
        flash("Key \(apiKey) revoked.", context)
        return redirect("/console/keys")
    }
}

/// A console failure rendered as a page.
struct ConsoleFailure: Error {
    let status: HTTPResponse.Status
    let title: String
    let message: String
    let link: String

    static let csrf = ConsoleFailure(
        status: .forbidden, title: "Form expired", message: "This form is no longer valid (its security token did not match). Nothing was changed.",
        link: "/console")
    static let expired = ConsoleFailure(status: .unauthorized, title: "Signed out", message: "Your session has ended. Sign in again.", link: "/console/login")
    static let noSuchKey = ConsoleFailure(status: .notFound, title: "No such key", message: "That API key does not exist or is already revoked.", link: "/console/keys")
}

extension Error {
    /// The message to show an operator: an OKX error's text, a console error's, else a generic one.
    /// The form field the error is about: the parameter an OKX error names (the sub-account of `subAcct` is the
    /// form's `account`), or a console error's field; `fallback` when it names none of `fields`.
    func field(in fields: Set<String>, default fallback: String) -> String {
        var name = (self as? OKXError)?.parameter ?? (self as? ConsoleError)?.field
        if name == "subAcct" { name = "account" }
        guard let name, fields.contains(name) else { return fallback }
        return name
    }

    var msg: String {
        if let okx = self as? OKXError { return okx.message }
        if let console = self as? ConsoleError { return console.message }
        return "The request could not be completed."
    }
}

/// `application/x-www-form-urlencoded` fields.
struct FormFields {
    let values: [String: String]

    init(_ body: String) {
        var values: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first else { continue }
            values[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }
}
