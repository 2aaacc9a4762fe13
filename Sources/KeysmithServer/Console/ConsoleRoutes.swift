import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The web console under `/console`: server-rendered HTML forms, no JavaScript. Sign-in is email + password
/// (bcrypt) and a TOTP code; TOTP enrolment is required before anything else. Sessions are stored only once a
/// password was accepted: the sign-in form carries a signed, stateless token (``SignInFormTokens``), every later form
/// the session's CSRF token. Sign-in attempts are throttled per client network before any bcrypt work. Every action
/// goes through the same services as the API and CLI and is audited with `console:EMAIL` as the actor.
///
/// Its pages come in groups (``ConsoleController``), each handed the services it uses by the composition root.
struct ConsoleRoutes {
    let shell: ConsoleShell
    let controllers: [any ConsoleController]

    func register(on router: Router<AppRequestContext>) {
        let cookie = SessionCookieParameters(name: "keysmith_console", path: "/console", secure: shell.secureCookies, sameSite: .strict)
        let group = router.group("console").add(
            middleware: SessionMiddleware(
                storage: ConsoleSessionStorage(store: shell.sessions, clock: shell.clock),
                configuration: .init(sessionCookieParameters: cookie, keyPrefix: "s.", defaultSessionExpiration: .seconds(8 * 3600))))
        for controller in controllers { controller.register(on: group) }
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
    /// The form field the error is about: the parameter an OKX error names (the sub-account of `subAcct` is the
    /// form's `account`), or a console error's field; `fallback` when it names none of `fields`.
    package func field(in fields: Set<String>, default fallback: String) -> String {
        var name = (self as? OKXError)?.parameter ?? (self as? ConsoleError)?.field
        if name == "subAcct" { name = "account" }
        guard let name, fields.contains(name) else { return fallback }
        return name
    }

    /// The message to show an operator: an OKX error's text, a console error's, else a generic one.
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
