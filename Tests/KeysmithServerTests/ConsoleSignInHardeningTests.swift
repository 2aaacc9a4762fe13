import Foundation
import HTTPTypes
import HummingbirdTesting
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Console sign-in against an attacker: parallel guesses each count, a session that is behind cannot touch an
/// enrolled authenticator, nothing is stored before a password is accepted, refusals do not tell which emails are
/// operators, and sign-in attempts are throttled per client network before any bcrypt work.
@Suite struct ConsoleSignInHardeningTests {
    static let email = ConsoleTests.email
    static let password = ConsoleTests.password

    /// `count` browsers, each on a connection of its own (so that their requests really run in parallel).
    static func browsers(_ count: Int, _ h: Harness, _ body: ([ConsoleBrowser]) async throws -> Void) async throws {
        let port = try #require(h.client.port)
        let connections = (0..<count).map { _ in TestClient(host: "127.0.0.1", port: port) }
        for connection in connections { connection.connect() }
        do {
            try await body(connections.map { ConsoleBrowser(h, connection: $0) })
        } catch {
            for connection in connections { try? await connection.shutdown() }
            throw error
        }
        for connection in connections { try await connection.shutdown() }
    }

    static func parallel(_ browsers: [ConsoleBrowser], _ post: @escaping @Sendable (ConsoleBrowser) async throws -> Int) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for browser in browsers { group.addTask { try await post(browser) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// The failure counts the audit shows for `factor`, in order of the count: each failure counted once, the one
    /// that reached 5 locked and restarted the count.
    static func counts(_ h: Harness, factor: String) async throws -> (counts: [Int], locks: Int) {
        let failed = try await h.installation.auditStore.search(.init(action: "console.signin.failed", limit: 100))
        let locked = try await h.installation.auditStore.search(.init(action: "console.user.locked", limit: 100))
        let counts = (failed + locked).filter { $0.record.details["factor"] == factor }.compactMap { Int($0.record.details["failures"] ?? "") }
        return (counts.sorted(), locked.filter { $0.record.details["factor"] == factor }.count)
    }

    /// Counts 1…5, then 1…(n-5): what n failures counted one at a time give.
    static func expected(_ n: Int) -> [Int] {
        (Array(1...min(n, 5)) + (n > 5 ? Array(1...(n - 5)) : [])).sorted()
    }

    // MARK: Parallel guesses

    @Test
    func parallelWrongPasswordsEachCountAndLock() async throws {
        // Cost 12: each check takes long enough that all eight read the account before the first failure is counted.
        try await ConsoleTests.withConsole(bcryptCost: 12, configure: { $0.consoleSignIn.limit = .unlimited }) { h, _ in
            try await Self.browsers(8, h) { browsers in
                for browser in browsers { _ = try await browser.get("/console/login") }
                let statuses = try await Self.parallel(browsers) { browser in
                    try await browser.post("/console/login", ["email": Self.email, "password": "not the password"]).status
                }
                #expect(statuses == Array(repeating: 401, count: 8))
                let (counts, locks) = try await Self.counts(h, factor: "password")
                // Every guess that reached the check counted (those after the lock were refused without counting).
                #expect(counts.count >= 5 && counts == Self.expected(counts.count), "\(counts)")
                #expect(locks == 1)
                let right = try await browsers[0].post("/console/login", ["email": Self.email, "password": Self.password])
                #expect(right.status == 401, "locked on this network")
            }
        }
    }

    @Test
    func parallelWrongCodesEachCountAndLock() async throws {
        try await ConsoleTests.withConsole(configure: { $0.consoleSignIn.limit = .unlimited }) { h, enrolling in
            let secret = try await enrolling.signIn(Self.email, Self.password)
            try await Self.browsers(8, h) { browsers in
                for browser in browsers {
                    _ = try await browser.get("/console/login")
                    #expect(try await browser.post("/console/login", ["email": Self.email, "password": Self.password]).location == "/console/login/code")
                    _ = try await browser.get("/console/login/code")
                }
                h.clock.advance(by: 30_000)
                let code = browsers[0].code(secret)
                let guess = code == "000000" ? "000001" : "000000"
                let statuses = try await Self.parallel(browsers) { browser in
                    try await browser.post("/console/login/code", ["code": guess]).status
                }
                #expect(statuses == Array(repeating: 401, count: 8))
                let (counts, locks) = try await Self.counts(h, factor: "code")
                #expect(counts.count >= 5 && counts == Self.expected(counts.count), "\(counts)")
                #expect(locks == 1)
                let right = try await browsers[0].post("/console/login/code", ["code": code])
                #expect(right.status == 401 && right.html.contains("locked until"))
            }
        }
    }

    // MARK: Sessions that are behind

    @Test
    func aStaleEnrolmentSessionCannotReplaceAnEnrolledAuthenticator() async throws {
        try await ConsoleTests.withConsole { h, stale in
            // A: the password only, then waits at the enrolment step.
            _ = try await stale.get("/console/login")
            #expect(try await stale.post("/console/login", ["email": Self.email, "password": Self.password]).location == "/console/totp")
            // B: signs in and enrols an authenticator.
            let owner = ConsoleBrowser(h)
            let secret = try await owner.signIn(Self.email, Self.password)
            // A comes back: no new secret, 2FA stays on, A's session is over.
            let replaced = try await stale.get("/console/totp")
            #expect(ConsoleBrowser.text(id: "totp-secret", in: replaced.html) == nil)
            #expect(replaced.status == 303 && replaced.location == "/console/login")
            let user = try #require(try await h.console.user(id: 1))
            #expect(user.totpEnabled)
            #expect(try await stale.post("/console/totp", ["code": "000000"]).status == 403, "no session left to post from")
            #expect(try await stale.get("/console").location == "/console/login")
            // B's authenticator still signs in; B's session is untouched.
            #expect(try await owner.get("/console").status == 200)
            let again = ConsoleBrowser(h)
            try await again.signIn(Self.email, Self.password, secret: secret)
            #expect(try await again.get("/console").status == 200)
        }
    }

    @Test
    func twoFactorChangesEndEveryOtherSession() async throws {
        try await ConsoleTests.withConsole { h, owner in
            let secret = try await owner.signIn(Self.email, Self.password)
            let other = ConsoleBrowser(h)
            try await other.signIn(Self.email, Self.password, secret: secret)
            let waiting = ConsoleBrowser(h)
            _ = try await waiting.get("/console/login")
            #expect(try await waiting.post("/console/login", ["email": Self.email, "password": Self.password]).location == "/console/login/code")
            #expect(try await other.get("/console").status == 200)

            // Turning 2FA off ends every other session; the one that did it goes on to enrol again.
            _ = try await owner.get("/console/security")
            h.clock.advance(by: 30_000)
            #expect(try await owner.post("/console/totp/disable", ["code": owner.code(secret)]).location == "/console/totp")
            #expect(try await other.get("/console").location == "/console/login")
            #expect(try await waiting.get("/console/login/code").location == "/console/login")
            let enrol = try await owner.get("/console/totp")
            let renewed = try #require(ConsoleBrowser.text(id: "totp-secret", in: enrol.html))

            // Turning it on again ends the sessions made in between.
            let between = ConsoleBrowser(h)
            _ = try await between.get("/console/login")
            #expect(try await between.post("/console/login", ["email": Self.email, "password": Self.password]).location == "/console/totp")
            #expect(try await owner.post("/console/totp", ["code": owner.code(renewed)]).location == "/console")
            #expect(try await owner.get("/console").status == 200)
            #expect(try await between.get("/console/totp").location == "/console/login")
            #expect(try await h.console.user(id: 1)?.totpEnabled == true)
        }
    }

    // MARK: Nothing stored before a password

    @Test
    func theSignInFormStoresNoSession() async throws {
        try await ConsoleTests.withConsole { h, browser in
            for _ in 0..<1_000 {
                let page = try await h.client.execute(uri: "/console/login", method: .get, headers: [:], body: nil) { response in response.status }
                #expect(page == .ok)
            }
            #expect(try await h.installation.consoleStore.sessionCount() == 0)
            _ = try await browser.get("/console/login")
            let wrong = try await browser.post("/console/login", ["email": Self.email, "password": "not the password"])
            #expect(wrong.status == 401)
            #expect(try await h.installation.consoleStore.sessionCount() == 0)
            try await browser.signIn(Self.email, Self.password)
            #expect(try await h.installation.consoleStore.sessionCount() == 1)
        }
    }

    @Test
    func theSignInFormNeedsItsTokenInCookieAndForm() async throws {
        try await ConsoleTests.withConsole(configure: { $0.consoleSignIn.limit = .unlimited }) { h, browser in
            let login = try await browser.get("/console/login")
            let token = try #require(ConsoleBrowser.value(of: "csrf", in: login.html))
            #expect(browser.signInCookie == "keysmith_signin=\(token)")
            let setCookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("keysmith_signin=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"))
            // The token is kept while valid: a second tab's form works as well as the first.
            #expect(try await browser.get("/console/login").headers[values: .setCookie].isEmpty)
            let fields = ["email": Self.email, "password": Self.password]
            // No token, a made-up one, or one the cookie does not carry: 403, nothing checked.
            #expect(try await browser.post("/console/login", fields, csrf: false).status == 403)
            #expect(try await browser.post("/console/login", fields.merging(["csrf": "0123456789abcdef"]) { $1 }).status == 403)
            let otherTab = ConsoleBrowser(h)
            let other = try #require(ConsoleBrowser.value(of: "csrf", in: try await otherTab.get("/console/login").html))
            #expect(try await browser.post("/console/login", fields.merging(["csrf": other]) { $1 }).status == 403)
            // A forged token in both places (another signature) is refused as well.
            let parts = token.split(separator: ".")
            let forged = "\(parts[0]).\(parts[1]).\(String(repeating: "0", count: 64))"
            let forger = ConsoleBrowser(h)
            forger.signInCookie = "keysmith_signin=\(forged)"
            #expect(try await forger.post("/console/login", fields.merging(["csrf": forged]) { $1 }).status == 403)
            let noCookie = ConsoleBrowser(h)
            #expect(try await noCookie.post("/console/login", fields.merging(["csrf": token]) { $1 }).status == 403)
            #expect(h.console.passwordVerifications == 0)
            // An expired token is refused; a fresh page gives a new one, which works.
            h.clock.advance(by: 2 * 3_600_000 + 1)
            #expect(try await browser.post("/console/login", fields).status == 403)
            _ = try await browser.get("/console/login")
            #expect(browser.csrf != token)
            #expect(try await browser.post("/console/login", fields).location == "/console/totp")
        }
    }

    // MARK: One answer, and a throttle before bcrypt

    @Test
    func lockedAndUnknownEmailsGetTheSameAnswer() async throws {
        try await ConsoleTests.withConsole(configure: { $0.consoleSignIn.limit = .unlimited }) { h, browser in
            _ = try await browser.get("/console/login")
            for _ in 0..<5 {
                _ = try await browser.post("/console/login", ["email": Self.email, "password": "not the password"])
            }
            let before = h.console.passwordVerifications
            let locked = try await browser.post("/console/login", ["email": Self.email, "password": Self.password])
            let unknown = try await browser.post("/console/login", ["email": "nobody@example.com", "password": Self.password])
            let wrong = try await browser.post("/console/login", ["email": "nobody@example.com", "password": "not the password"])
            func normalised(_ page: ConsoleBrowser.Page, _ email: String) -> String {
                page.html.replacingOccurrences(of: email, with: "EMAIL").replacingOccurrences(of: browser.csrf, with: "TOKEN")
            }
            #expect(locked.status == 401 && unknown.status == 401 && wrong.status == 401)
            #expect(normalised(locked, Self.email) == normalised(unknown, "nobody@example.com"))
            #expect(normalised(wrong, "nobody@example.com") == normalised(unknown, "nobody@example.com"))
            #expect(!locked.html.contains("locked until"))
            // The same bcrypt work for each (a locked account is checked too, and still refused).
            #expect(h.console.passwordVerifications == before + 3)
        }
    }

    @Test
    func signInIsThrottledPerNetworkBeforeAnyBcrypt() async throws {
        try await ConsoleTests.withConsole { h, _ in
            // Wrong passwords for the operator (refused after a bcrypt check each, locked on this network after 5).
            let fields = ["email": Self.email, "password": "not the password"]
            let attacker = ConsoleBrowser(h)
            attacker.forwardedFor = "203.0.113.9"
            _ = try await attacker.get("/console/login")
            for _ in 0..<5 { #expect(try await attacker.post("/console/login", fields).status == 401) }
            let before = h.console.passwordVerifications
            let throttled = try await attacker.post("/console/login", fields)
            #expect(throttled.status == 429 && throttled.html.contains("Too many sign-in attempts"))
            #expect(throttled.headers[.retryAfter] == "6")
            #expect(h.console.passwordVerifications == before, "refused before bcrypt")
            // The code form shares the budget.
            #expect(try await attacker.post("/console/login/code", ["code": "123456"]).status == 429)
            // Other networks are not affected; the budget refills (one attempt every 6 s).
            let operator_ = ConsoleBrowser(h)
            operator_.forwardedFor = "198.51.100.20"
            _ = try await operator_.get("/console/login")
            #expect(try await operator_.post("/console/login", ["email": Self.email, "password": Self.password]).status == 303)
            h.clock.advance(by: 6_000)
            #expect(try await attacker.post("/console/login", fields).status == 401)
            #expect(try await attacker.post("/console/login", fields).status == 429)
            #expect(h.console.passwordVerifications == before + 2)
        }
    }

    @Test
    func anIPv6ClientCountsPerSlash64() async throws {
        try await ConsoleTests.withConsole { h, _ in
            let fields = ["email": Self.email, "password": "not the password"]
            let attacker = ConsoleBrowser(h)
            _ = try await attacker.get("/console/login")
            for i in 1...5 {
                attacker.forwardedFor = "2001:db8:1:2::\(i)"
                #expect(try await attacker.post("/console/login", fields).status == 401)
            }
            attacker.forwardedFor = "2001:db8:1:2:ffff:ffff:ffff:ffff"
            #expect(try await attacker.post("/console/login", fields).status == 429)
            attacker.forwardedFor = "2001:db8:1:3::1"
            #expect(try await attacker.post("/console/login", fields).status == 401)
        }
        let policy = ConsoleSignInThrottle.Policy()
        #expect(policy.network(of: try IPAddress("2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64")
        #expect(policy.network(of: try IPAddress("203.0.113.9")) == "203.0.113.9")
        #expect(ConsoleSignInThrottle.Policy(ipv6PrefixLength: 48).network(of: try IPAddress("2001:db8:1:2::1")) == "2001:db8:1::/48")
        #expect(ConsoleSignInThrottle.Policy(ipv6PrefixLength: 128).network(of: try IPAddress("2001:db8::1")) == "2001:db8::1/128")
        #expect(policy.network(of: nil) == "unknown")
    }
}
