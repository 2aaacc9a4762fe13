import Foundation
import HTTPTypes
import HummingbirdBcrypt
import HummingbirdOTP
import HummingbirdTesting
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import NIOCore
import Testing

/// A browser without JavaScript: keeps the console's cookies, reads CSRF tokens out of pages, submits forms, and may
/// present another client address (`X-Forwarded-For`, which the harness trusts).
final class ConsoleBrowser: @unchecked Sendable {
    let h: Harness
    /// The session cookie (`keysmith_console=…`), once the server set one.
    var cookie: String?
    /// The sign-in form's token cookie (`keysmith_signin=…`).
    var signInCookie: String?
    var csrf = ""
    var keyForm = ""
    var forwardedFor: String?
    /// A connection of this browser's own (requests of browsers sharing the harness's connection run one at a time).
    let connection: TestClient?

    init(_ h: Harness, connection: TestClient? = nil) {
        self.h = h
        self.connection = connection
    }

    struct Page {
        let status: Int
        let html: String
        let headers: HTTPFields
        var location: String? { headers[.location] }
    }

    func get(_ path: String) async throws -> Page {
        try await send(.get, path, body: nil)
    }

    func post(_ path: String, _ fields: [String: String], csrf useToken: Bool = true) async throws -> Page {
        var all = fields
        if useToken, all["csrf"] == nil { all["csrf"] = csrf }
        let body = all.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await send(.post, path, body: body)
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?) async throws -> Page {
        var headers: HTTPFields = [:]
        let cookies = [cookie, signInCookie].compactMap { $0 }
        if !cookies.isEmpty { headers[.cookie] = cookies.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
        let page: Page
        if let connection {
            headers[.connection] = "keep-alive"
            let response = try await connection.execute(
                TestClient.Request(path, method: method, authority: "localhost", headers: headers, body: body.map { ByteBuffer(string: $0) }))
            page = Page(status: Int(response.status.code), html: response.body.map { String(buffer: $0) } ?? "", headers: response.headers)
        } else {
            page = try await h.client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                Page(status: Int(response.status.code), html: String(buffer: response.body), headers: response.headers)
            }
        }
        for set in page.headers[values: .setCookie] {
            guard let value = set.split(separator: ";").first else { continue }
            if value.hasPrefix("keysmith_console=") { cookie = String(value) }
            if value.hasPrefix("keysmith_signin=") { signInCookie = String(value) }
        }
        if let token = Self.value(of: "csrf", in: page.html) { csrf = token }
        if let token = Self.value(of: "keyForm", in: page.html) { keyForm = token }
        return page
    }

    static func value(of field: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(field)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// The target of the link `<a href="…" id="ID">`, HTML entities decoded.
    static func value(ofLink id: String, in html: String) -> String? {
        guard let end = html.range(of: "\" id=\"\(id)\"") else { return nil }
        guard let start = html[..<end.lowerBound].range(of: "href=\"", options: .backwards) else { return nil }
        return String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
            .replacingOccurrences(of: "&#61;", with: "=").replacingOccurrences(of: "&#x3D;", with: "=")
    }

    static func text(id: String, in html: String) -> String? {
        guard let range = html.range(of: "id=\"\(id)\">") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "<" })
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The current TOTP code for the base32 secret shown at enrolment, at the server's clock.
    func code(_ base32: String) -> String {
        let secret = String(decoding: Self.base32Decode(base32), as: UTF8.self)
        let value = TOTP(secret: secret).compute(date: Date(timeIntervalSince1970: Double(h.clock.milliseconds) / 1000))
        return String(format: "%06d", value)
    }

    static func base32Decode(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0, value = 0
        var out: [UInt8] = []
        for c in text.uppercased() where c != "=" {
            guard let index = alphabet.firstIndex(of: c) else { continue }
            value = (value << 5) | index
            bits += 5
            if bits >= 8 {
                out.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }

    /// Signs in (enrolling TOTP on the first sign-in); returns the TOTP secret.
    @discardableResult
    func signIn(_ email: String, _ password: String, secret known: String? = nil) async throws -> String {
        _ = try await get("/console/login")
        let login = try await post("/console/login", ["email": email, "password": password])
        #expect(login.status == 303)
        if let known {
            #expect(login.location == "/console/login/code")
            _ = try await get("/console/login/code")
            h.clock.advance(by: 30_000)
            let verified = try await post("/console/login/code", ["code": code(known)])
            #expect(verified.location == "/console")
            return known
        }
        #expect(login.location == "/console/totp")
        let enrol = try await get("/console/totp")
        let secret = try #require(Self.text(id: "totp-secret", in: enrol.html))
        let enabled = try await post("/console/totp", ["code": code(secret)])
        #expect(enabled.location == "/console")
        return secret
    }
}

@Suite struct ConsoleTests {
    static let email = "ops@example.com"
    static let password = "correct horse battery"

    /// A console with one operator. Their password hash is cheap to check (bcrypt cost 4, where `createUser` uses the
    /// policy's 12), so that the many sign-ins of the console suites do not starve each other on a loaded machine; the
    /// checks are the same at any cost.
    static func withConsole(
        bcryptCost: UInt8 = 4, configure: @escaping (inout ServerConfiguration) -> Void = { _ in },
        _ test: @escaping @Sendable (Harness, ConsoleBrowser) async throws -> Void
    ) async throws {
        try await Harness.run(configure: configure) { h in
            _ = try await h.installation.consoleStore.insertUser(
                email: email, passwordHash: Bcrypt.hash(password, cost: bcryptCost), createdAt: h.clock.milliseconds,
                audit: AuditRecord(time: h.clock.milliseconds, actor: "test", action: "console.user.create"))
            try await test(h, ConsoleBrowser(h))
        }
    }

    @Test
    func newOperatorsGetThePolicysBcryptCostAndTheirEmailLowercased() async throws {
        try await Harness.run { h in
            let user = try await h.console.createUser(email: " Second@Example.com", password: Self.password, origin: .test)
            #expect(user.email == "second@example.com" && user.passwordHash.hasPrefix("$2b$12$"))
            let duplicate = await #expect(throws: ConsoleError.self) {
                try await h.console.createUser(email: "SECOND@example.com", password: Self.password, origin: .test)
            }
            #expect(duplicate?.field == "email")
        }
    }

    @Test
    func everyPageNeedsASignedInUserWithTwoFactor() async throws {
        try await Self.withConsole { h, browser in
            for path in ["/console", "/console/subaccounts", "/console/keys", "/console/keys/new"] {
                let page = try await browser.get(path)
                #expect(page.status == 303 && page.location == "/console/login", "\(path)")
            }
            let login = try await browser.get("/console/login")
            #expect(login.status == 200 && login.html.contains("Sign in"))
            #expect(login.headers[.cacheControl] == "no-store")
            let wrong = try await browser.post("/console/login", ["email": Self.email, "password": "wrong password!"])
            #expect(wrong.status == 401 && wrong.html.contains("The email or password is wrong."))
            let unknown = try await browser.post("/console/login", ["email": "nobody@example.com", "password": Self.password])
            #expect(unknown.status == 401 && unknown.html.contains("The email or password is wrong."))
            // The password alone only reaches the TOTP enrolment page.
            _ = try await browser.post("/console/login", ["email": Self.email, "password": Self.password])
            #expect(try await browser.get("/console").location == "/console/totp")
            let enrol = try await browser.get("/console/totp")
            let secret = try #require(ConsoleBrowser.text(id: "totp-secret", in: enrol.html))
            #expect(enrol.html.contains("otpauth://totp/"))
            let bad = try await browser.post("/console/totp", ["code": "000000"])
            #expect(bad.status == 401 && bad.html.contains("not valid"))
            // A failed attempt shows a new key; the old one no longer works.
            let renewed = try #require(ConsoleBrowser.text(id: "totp-secret", in: bad.html))
            #expect(renewed != secret)
            let ok = try await browser.post("/console/totp", ["code": browser.code(renewed)])
            #expect(ok.location == "/console")
            let dashboard = try await browser.get("/console")
            #expect(dashboard.status == 200 && dashboard.html.contains("Two-factor authentication is on."))
            #expect(dashboard.html.contains("console.totp.enable"), "security events are listed")

            // Next time: password, then a code; a code is accepted once only.
            let second = ConsoleBrowser(h)
            _ = try await second.get("/console/login")
            let toCode = try await second.post("/console/login", ["email": Self.email, "password": Self.password])
            #expect(toCode.location == "/console/login/code")
            _ = try await second.get("/console/login/code")
            h.clock.advance(by: 30_000)
            let code = second.code(renewed)
            let accepted = try await second.post("/console/login/code", ["code": code])
            #expect(accepted.location == "/console")
            let third = ConsoleBrowser(h)
            _ = try await third.get("/console/login")
            _ = try await third.post("/console/login", ["email": Self.email, "password": Self.password])
            _ = try await third.get("/console/login/code")
            let replayed = try await third.post("/console/login/code", ["code": code])
            #expect(replayed.status == 401 && replayed.html.contains("already used"))
        }
    }

    @Test
    func formsWithoutTheSessionsCSRFTokenChangeNothing() async throws {
        try await Self.withConsole { h, browser in
            try await browser.signIn(Self.email, Self.password)
            _ = try await browser.get("/console/subaccounts")
            for token in ["", "0123456789abcdef", String(browser.csrf.reversed())] {
                let forged = try await browser.post("/console/subaccounts", ["name": "forged001", "csrf": token])
                #expect(forged.status == 403 && forged.html.contains("Form expired"))
            }
            let noToken = try await browser.post("/console/subaccounts", ["name": "forged002"], csrf: false)
            #expect(noToken.status == 403)
            #expect(try await h.installation.accounts.subAccounts().isEmpty)
            // Signing out needs the token too.
            #expect(try await browser.post("/console/logout", ["csrf": "nope"]).status == 403)
            #expect(try await browser.get("/console").status == 200)
            #expect(try await browser.post("/console/logout", [:]).location == "/console/login")
            #expect(try await browser.get("/console").location == "/console/login")
        }
    }

    @Test
    func repeatedFailuresLockTheAccountOnThatNetwork() async throws {
        try await Self.withConsole(configure: { $0.consoleSignIn.limit = .unlimited }) { h, browser in
            _ = try await browser.get("/console/login")
            for _ in 0..<5 {
                #expect(try await browser.post("/console/login", ["email": Self.email, "password": "not the password"]).status == 401)
            }
            // Locked here: even the right password gets the answer of a wrong one.
            let locked = try await browser.post("/console/login", ["email": Self.email, "password": Self.password])
            #expect(locked.status == 401 && locked.html.contains("The email or password is wrong."))
            let events = try await h.installation.auditStore.search(.init(action: "console.user.locked", limit: 10))
            #expect(events.count == 1)
            // Another network is not locked out.
            let elsewhere = ConsoleBrowser(h)
            elsewhere.forwardedFor = "198.51.100.20"
            _ = try await elsewhere.get("/console/login")
            #expect(try await elsewhere.post("/console/login", ["email": Self.email, "password": Self.password]).status == 303)
            h.clock.advance(by: 15 * 60_000 + 1)
            #expect(try await browser.post("/console/login", ["email": Self.email, "password": Self.password]).status == 303)
        }
    }

    @Test
    func aSessionKeepsItsIdUntilSignInAndSignOut() async throws {
        try await Self.withConsole { h, browser in
            _ = try await browser.get("/console/login")
            #expect(browser.cookie == nil, "no session before a password is accepted")
            let planted = "keysmith_console=planted-by-someone-else"
            browser.cookie = planted
            try await browser.signIn(Self.email, Self.password)
            let signedIn = try #require(browser.cookie)
            #expect(signedIn != planted, "signing in issues a new session id")
            // Flash messages and form tokens update the session in place.
            _ = try await browser.get("/console/subaccounts")
            #expect(try await browser.post("/console/subaccounts", ["name": "bot01trader"]).status == 303)
            _ = try await browser.get("/console/subaccounts")
            _ = try await browser.get("/console/keys/new")
            #expect(browser.cookie == signedIn)
        }
    }

    @Test
    func sessionsExpire() async throws {
        try await Self.withConsole { h, browser in
            try await browser.signIn(Self.email, Self.password)
            #expect(try await browser.get("/console").status == 200)
            h.clock.advance(by: 8 * 3_600_000 + 1_000)
            #expect(try await browser.get("/console").location == "/console/login")
        }
    }

    @Test
    func theSeedsFlowShowsTheSecretOnceAndNowhereElse() async throws {
        try await Self.withConsole { h, browser in
            try await browser.signIn(Self.email, Self.password)
            _ = try await browser.get("/console/subaccounts")
            let created = try await browser.post("/console/subaccounts", [
                "name": "bot01trader", "type": "standard", "acctLv": "2", "posMode": "net_mode", "deposits": "on",
            ])
            #expect(created.location == "/console/subaccounts")
            let list = try await browser.get("/console/subaccounts")
            #expect(list.html.contains("bot01trader") && list.html.contains("Sub-account bot01trader created."))
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            #expect(sub.level == .spotAndFutures && sub.positionMode == .net && sub.depositsAllowed)
            let invalid = try await browser.post("/console/subaccounts", ["name": "x"])
            #expect(invalid.status == 400 && invalid.html.contains("field-error"))

            _ = try await h.installation.apps.add(name: "3commas", allowlist: try IPAllowlist(okx: "127.0.0.1"), url: nil, origin: .test)
            _ = try await browser.get("/console/keys/new")
            let form = browser.keyForm
            let made = try await browser.post("/console/keys", [
                "keyForm": form, "account": "bot01trader", "label": "platform", "purpose": "app", "app": "3commas", "trade": "on",
                "passphrase": "Platform-Pass-1",
            ])
            #expect(made.status == 200)
            #expect(made.headers[.cacheControl] == "no-store")
            let apiKey = try #require(ConsoleBrowser.text(id: "api-key", in: made.html))
            let secret = try #require(ConsoleBrowser.text(id: "secret-key", in: made.html))
            #expect(ConsoleBrowser.text(id: "passphrase", in: made.html) == "Platform-Pass-1")
            let key = try #require(try await h.installation.keys.keys(of: sub).first)
            #expect(key.apiKey == apiKey && key.permissions == [.readOnly, .trade] && key.allowlist.okxString == "127.0.0.1")
            #expect(key.purpose.app == "3commas")
            // The key works as shown.
            let reply = try await h.call(.get, "/api/v5/account/config", as: KeyCredentials(apiKey: apiKey, secretKey: secret, passphrase: "Platform-Pass-1"))
            #expect(reply.code == "0")
            // Submitting the same form again shows nothing and creates nothing.
            let again = try await browser.post("/console/keys", [
                "keyForm": form, "account": "bot01trader", "label": "platform2", "purpose": "own", "trade": "on",
            ])
            #expect(again.status == 303)
            #expect(try await h.installation.keys.keys(of: sub).count == 1)
            // No other page shows the secret or passphrase.
            let paths = ["/console", "/console/keys", "/console/subaccounts", "/console/keys/new", "/console/keys/\(apiKey)/revoke",
                         "/console/keys/\(apiKey)/edit", "/console/audit"] + ConsoleOperationsTests.pages
            for path in paths {
                let page = try await browser.get(path)
                #expect(page.status == 200, "\(path)")
                #expect(!page.html.contains(secret) && !page.html.contains("Platform-Pass-1"), "\(path)")
            }
            #expect(!h.logs.text.contains(secret))
            let audited = try await h.installation.auditStore.search(.init(actor: "console:\(Self.email)", limit: 50))
            #expect(audited.contains { $0.record.target == apiKey || $0.record.details.values.contains(apiKey) || $0.record.action.contains("keys") })
            #expect(!audited.contains { "\($0.record)".contains(secret) })

            // Revocation asks for confirmation, then takes effect at once.
            let confirm = try await browser.get("/console/keys/\(apiKey)/revoke")
            #expect(confirm.html.contains("Revoke key"))
            #expect(try await browser.post("/console/keys/\(apiKey)/revoke", ["reason": "rotating"]).location == "/console/keys")
            #expect(try await h.installation.keys.keys(of: sub).isEmpty)
            // The console's key writes refresh the key cache before they answer.
            let revoked = KeyCredentials(apiKey: apiKey, secretKey: secret, passphrase: "Platform-Pass-1")
            #expect(try await h.call(.get, "/api/v5/account/config", as: revoked).code == "50111")
        }
    }

    @Test
    func withdrawPermissionNeedsAFreshCode() async throws {
        try await Self.withConsole { h, browser in
            let secret = try await browser.signIn(Self.email, Self.password)
            _ = try await browser.get("/console/keys/new")
            let refused = try await browser.post("/console/keys", [
                "keyForm": browser.keyForm, "account": "master", "label": "treasury", "purpose": "own", "ip": "127.0.0.1",
                "trade": "on", "withdraw": "on",
            ])
            #expect(refused.status == 400 && refused.html.contains("fresh authenticator code"))
            let master = try await h.installation.accounts.master()
            let before = try await h.installation.keys.keys(of: master).count
            h.clock.advance(by: 30_000)
            let made = try await browser.post("/console/keys", [
                "keyForm": browser.keyForm, "account": "master", "label": "treasury", "purpose": "own", "ip": "127.0.0.1",
                "trade": "on", "withdraw": "on", "code": browser.code(secret),
            ])
            #expect(made.status == 200 && ConsoleBrowser.text(id: "api-key", in: made.html) != nil)
            #expect(try await h.installation.keys.keys(of: master).count == before + 1)
        }
    }
}
