import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// The console's operations pages, each through the same services as the API and CLI, audited with the console user.
@Suite struct ConsoleOperationsTests {
    static let email = ConsoleTests.email
    static let actor = "console:\(ConsoleTests.email)"

    static func signedIn(_ test: @escaping @Sendable (Harness, ConsoleBrowser, String) async throws -> Void) async throws {
        try await ConsoleTests.withConsole { h, browser in
            let secret = try await browser.signIn(ConsoleTests.email, ConsoleTests.password)
            try await test(h, browser, secret)
        }
    }

    static let pages = ["/console/balances", "/console/apps", "/console/withdrawals", "/console/audit", "/console/alerts", "/console/review", "/console/security"]

    @Test
    func everyOperationsPageNeedsSignInAndRenders() async throws {
        try await ConsoleTests.withConsole { h, browser in
            for path in Self.pages {
                let page = try await browser.get(path)
                #expect(page.status == 303 && page.location == "/console/login", "\(path)")
            }
            try await browser.signIn(ConsoleTests.email, ConsoleTests.password)
            for path in Self.pages {
                let page = try await browser.get(path)
                #expect(page.status == 200 && page.headers[.cacheControl] == "no-store", "\(path)")
                #expect(page.html.contains("name=\"csrf\"") || path == "/console/review", "\(path) forms carry the token")
            }
            // Forms without the session's token change nothing.
            let forged = try await browser.post("/console/deposits", ["account": "master", "ccy": "USDT", "amount": "5", "csrf": "forged"])
            #expect(forged.status == 403)
            #expect(try await h.ledger.balances(of: try await h.installation.accounts.master()).allSatisfy { $0.available == 0 })
        }
    }

    @Test
    func depositsAndTransfersMoveMoneyThroughTheLedger() async throws {
        try await Self.signedIn { h, browser, _ in
            _ = try await h.installation.accounts.createSubAccount(
                SubAccountRequest(name: "bot01trader", canTransferOut: true), origin: .test)
            _ = try await h.installation.accounts.createSubAccount(SubAccountRequest(name: "bot02trader"), origin: .test)
            _ = try await browser.get("/console/balances")
            #expect(try await browser.post("/console/deposits", ["account": "master", "ccy": "USDT", "amount": "100"]).location == "/console/balances")
            #expect(try await browser.post("/console/transfers", ["from": "master", "to": "bot01trader", "ccy": "USDT", "amount": "40"]).status == 303)
            #expect(try await browser.post("/console/transfers", ["from": "bot01trader", "to": "bot02trader", "ccy": "USDT", "amount": "15"]).status == 303)
            #expect(try await browser.post("/console/transfers", ["from": "bot02trader", "to": "master", "ccy": "USDT", "amount": "5"]).status == 303)
            let page = try await browser.get("/console/balances")
            #expect(page.html.contains("Transferred 5 USDT from bot02trader to master."))
            func funding(_ name: String) async throws -> Int64 {
                let account = name == "master" ? try await h.installation.accounts.master() : try await h.installation.accounts.subAccount(named: name)
                return try await h.ledger.balances(of: account).first { $0.kind == .funding }?.available ?? 0
            }
            #expect(try await funding("master") == 65_000_000)
            #expect(try await funding("bot01trader") == 25_000_000)
            #expect(try await funding("bot02trader") == 10_000_000)
            // An overdraft is refused next to the form and moves nothing.
            let overdraft = try await browser.post("/console/transfers", ["from": "bot02trader", "to": "master", "ccy": "USDT", "amount": "11"])
            #expect(overdraft.status == 400 && overdraft.html.contains("field-error"))
            #expect(try await funding("bot02trader") == 10_000_000)
            let same = try await browser.post("/console/transfers", ["from": "master", "to": "master", "ccy": "USDT", "amount": "1"])
            #expect(same.status == 400 && same.html.contains("Choose two different accounts."))
            let audited = try await h.installation.auditStore.search(AuditQuery(actor: Self.actor, limit: 100))
            #expect(audited.filter { $0.record.action.contains("transfer") }.count == 3)
            #expect(audited.contains { $0.record.action.contains("deposit") })
        }
    }

    @Test
    func appsRegistry() async throws {
        try await Self.signedIn { h, browser, _ in
            _ = try await browser.get("/console/apps")
            let bad = try await browser.post("/console/apps", ["name": "3commas", "ips": "not-an-ip"])
            #expect(bad.status == 400 && bad.html.contains("field-error"))
            #expect(try await h.installation.apps.apps().isEmpty)
            #expect(try await browser.post("/console/apps", ["name": "3commas", "ips": "203.0.113.10, 198.51.100.0/28"]).location == "/console/apps")
            let listed = try await browser.get("/console/apps")
            #expect(listed.html.contains("203.0.113.10,198.51.100.0/28"))
            #expect(try await browser.post("/console/apps/3commas/remove", [:]).location == "/console/apps")
            #expect(try await h.installation.apps.apps().isEmpty)
        }
    }

    @Test
    func withdrawalAddressesNeedAFreshCodeAndApprovalsSettle() async throws {
        try await Self.signedIn { h, browser, secret in
            let master = try await h.installation.accounts.master()
            _ = try await browser.get("/console/withdrawals")
            let address = WithdrawalTests.address
            let refused = try await browser.post("/console/addresses", ["ccy": "USDT", "address": address, "label": "cold", "code": "000000"])
            #expect(refused.status == 401 && refused.html.contains("fresh authenticator code"))
            #expect(try await h.installation.withdrawals.addresses(of: master).isEmpty)
            h.clock.advance(by: 30_000)
            let added = try await browser.post("/console/addresses", ["ccy": "USDT", "address": address, "label": "cold", "code": browser.code(secret)])
            #expect(added.location == "/console/withdrawals")
            #expect(try await h.installation.withdrawals.addresses(of: master).map(\.address) == [address])

            try await h.deposit("100", to: master)
            for amount in ["10", "20"] {
                let reply = try await h.call(.post, "/api/v5/asset/withdrawal", body: WithdrawalTests.withdrawalBody(amount), as: h.master)
                #expect(reply.code == "0", "\(reply.raw)")
            }
            let pending = try await h.installation.withdrawals.withdrawals(of: master, state: .pending)
            #expect(pending.count == 2)
            let page = try await browser.get("/console/withdrawals")
            for record in pending { #expect(page.html.contains("approve-\(record.id)")) }
            let sorted = pending.sorted { $0.id < $1.id }
            #expect(try await browser.post("/console/withdrawals/\(sorted[0].id)/approve", [:]).location == "/console/withdrawals")
            #expect(try await browser.post("/console/withdrawals/\(sorted[1].id)/reject", [:]).location == "/console/withdrawals")
            let settled = try await h.installation.withdrawals.withdrawals(of: master)
            #expect(Set(settled.map(\.state)) == [.completed, .rejected])
            let again = try await browser.post("/console/withdrawals/\(sorted[0].id)/reject", [:])
            #expect(again.status == 400)
            let sent = try #require(settled.first { $0.state == .completed })
            let funding = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(funding.available == 100_000_000 - sent.amount - sent.fee && funding.frozen == 0)
        }
    }

    @Test
    func auditLogFiltersAndPages() async throws {
        try await Self.signedIn { h, browser, _ in
            let master = try await h.installation.accounts.master()
            let origin = AuditOrigin(actor: "test", action: "ledger.deposit")
            for _ in 0..<60 { _ = try await h.installation.ledger.deposit(to: master, currency: "USDT", amount: "1", origin: origin) }
            let first = try await browser.get("/console/audit?action=ledger.deposit")
            #expect(first.status == 200)
            let rows = first.html.components(separatedBy: "<tr><td>").count - 1
            #expect(rows == 50)
            let older = try #require(ConsoleBrowser.value(ofLink: "older", in: first.html))
            #expect(older.contains("action=ledger.deposit") && older.contains("before="))
            let second = try await browser.get(older)
            #expect(second.html.components(separatedBy: "<tr><td>").count - 1 == 10)
            #expect(!second.html.contains("id=\"older\""))
            // Newest first, no overlap between the pages.
            let seqs = { (html: String) in
                html.components(separatedBy: "<tr><td>").dropFirst().compactMap { Int64($0.prefix { $0.isNumber }) }
            }
            let all = seqs(first.html) + seqs(second.html)
            #expect(all == all.sorted(by: >) && Set(all).count == 60)
            let byActor = try await browser.get("/console/audit?actor=\(ConsoleBrowser.encode(Self.actor))")
            #expect(byActor.html.contains("console.totp.enable") && !byActor.html.contains("ledger.deposit"))
        }
    }

    @Test
    func webhookSigningSecretIsShownOnceAndSinksAreRemovable() async throws {
        try await Self.signedIn { h, browser, _ in
            _ = try await browser.get("/console/alerts")
            let made = try await browser.post("/console/alerts", [
                "name": "soc", "kind": "webhook", "target": "http://127.0.0.1:9/hook?token=abc123", "event-key.revoked": "on",
            ])
            #expect(made.status == 200)
            let secret = try #require(ConsoleBrowser.text(id: "signing-secret", in: made.html))
            #expect(secret.hasPrefix("whsec_"))
            let list = try await browser.get("/console/alerts")
            #expect(list.html.contains("soc") && list.html.contains("key.revoked"))
            #expect(!list.html.contains(secret) && !list.html.contains("abc123"))
            let bad = try await browser.post("/console/alerts", ["name": "bad", "kind": "webhook", "target": "ftp://x"])
            #expect(bad.status == 400 && bad.html.contains("field-error"))
            #expect(try await browser.post("/console/alerts/soc/remove", [:]).location == "/console/alerts")
            #expect(try await h.installation.alertSinks.list().isEmpty)
        }
    }

    @Test
    func reviewEditAndRotate() async throws {
        try await Self.signedIn { h, browser, secret in
            let master = try await h.installation.accounts.master()
            let created = try await h.installation.keys.create(
                NewKeyRequest(account: master, label: "treasury", permissions: [.readOnly, .withdraw], allowlist: .loopback), origin: .test)
            let apiKey = created.credentials.apiKey
            let review = try await browser.get("/console/review")
            #expect(review.html.contains(apiKey) && review.html.contains("withdraw_permission"))

            // Edit: a new label and dropping withdraw apply at once.
            let form = try await browser.get("/console/keys/\(apiKey)/edit")
            #expect(form.status == 200 && form.html.contains("treasury"))
            let saved = try await browser.post("/console/keys/\(apiKey)/edit", ["label": "treasury-ro", "ips": "127.0.0.1"])
            #expect(saved.location == "/console/keys")
            var key = try #require(try await h.installation.keys.keys(of: master).first { $0.apiKey == apiKey })
            #expect(key.label == "treasury-ro" && key.permissions == .readOnly)
            // Adding withdraw back needs a fresh code.
            let refused = try await browser.post("/console/keys/\(apiKey)/edit", ["label": "treasury-ro", "ips": "127.0.0.1", "withdraw": "on"])
            #expect(refused.status == 401)
            h.clock.advance(by: 30_000)
            let accepted = try await browser.post(
                "/console/keys/\(apiKey)/edit", ["label": "treasury-ro", "ips": "127.0.0.1", "withdraw": "on", "code": browser.code(secret)])
            #expect(accepted.location == "/console/keys")

            // Rotate: the successor's secret on this response only.
            let rotated = try await browser.post("/console/keys/\(apiKey)/rotate", ["grace": "1"])
            #expect(rotated.status == 200 && rotated.headers[.cacheControl] == "no-store")
            let successor = try #require(ConsoleBrowser.text(id: "api-key", in: rotated.html))
            let successorSecret = try #require(ConsoleBrowser.text(id: "secret-key", in: rotated.html))
            #expect(successor != apiKey && rotated.html.contains(apiKey))
            key = try #require(try await h.installation.keys.keys(of: master).first { $0.apiKey == successor })
            #expect(key.label.hasPrefix("treasury-ro"))
            let keys = try await browser.get("/console/keys")
            #expect(keys.html.contains(successor) && !keys.html.contains(successorSecret) && !keys.html.contains(created.credentials.secretKey))
            let audited = try await h.installation.auditStore.search(AuditQuery(actor: Self.actor, limit: 100))
            #expect(audited.contains { $0.record.action.contains("rotate") })
            #expect(!audited.contains { "\($0.record)".contains(successorSecret) })
        }
    }

    @Test
    func turningTwoFactorOffNeedsAFreshCodeAndForcesReEnrolment() async throws {
        try await Self.signedIn { h, browser, secret in
            _ = try await browser.get("/console/security")
            let refused = try await browser.post("/console/totp/disable", ["code": "123456"])
            #expect(refused.status == 401)
            let user = try #require(try await h.console.user(id: 1))
            #expect(user.totpEnabled)
            h.clock.advance(by: 30_000)
            let done = try await browser.post("/console/totp/disable", ["code": browser.code(secret)])
            #expect(done.location == "/console/totp")
            #expect(try await h.console.user(id: 1)?.totpEnabled == false)
            // Nothing else is reachable until a new key is enrolled.
            #expect(try await browser.get("/console/keys").location == "/console/totp")
            let enrol = try await browser.get("/console/totp")
            let renewed = try #require(ConsoleBrowser.text(id: "totp-secret", in: enrol.html))
            #expect(renewed != secret)
            #expect(try await browser.post("/console/totp", ["code": browser.code(renewed)]).location == "/console")
            #expect(try await browser.get("/console/keys").status == 200)
            let events = try await h.installation.auditStore.search(AuditQuery(action: "console.totp.disable", limit: 5))
            #expect(events.count == 1 && events[0].record.actor == Self.actor)
        }
    }

    @Test
    func freezingASubAccountRefusesItsKeysUntilUnfrozen() async throws {
        try await Self.signedIn { h, browser, _ in
            let sub = try await h.installation.accounts.createSubAccount(SubAccountRequest(name: "bot01trader"), origin: .test)
            let created = try await h.installation.keys.create(
                NewKeyRequest(account: sub, label: "platform", permissions: [.readOnly, .trade], allowlist: .loopback), origin: .test)
            let credentials = created.credentials
            #expect(try await h.call(.get, "/api/v5/account/config", as: credentials).code == "0")
            _ = try await browser.get("/console/subaccounts")
            #expect(try await browser.post("/console/subaccounts/bot01trader/freeze", [:]).location == "/console/subaccounts")
            #expect(try await h.installation.accounts.subAccount(named: "bot01trader").frozen)
            try await h.installation.cacheLoader.refresh()
            let refused = try await h.call(.get, "/api/v5/account/config", as: credentials)
            #expect(refused.code == "50100" && refused.msg == "API frozen, please contact customer service.")
            let listed = try await h.call(.get, "/api/v5/users/subaccount/list", as: h.master)
            #expect(listed.data.first { $0["subAcct"] as? String == "bot01trader" }?["enable"] as? Bool == false)
            let page = try await browser.get("/console/subaccounts")
            #expect(page.html.contains("unfreeze-bot01trader"))
            #expect(try await browser.post("/console/subaccounts/bot01trader/unfreeze", [:]).status == 303)
            try await h.installation.cacheLoader.refresh()
            #expect(try await h.call(.get, "/api/v5/account/config", as: credentials).code == "0")
            #expect(try await browser.post("/console/subaccounts/nobody01/freeze", [:]).status == 404)
            let events = try await h.installation.auditStore.search(AuditQuery(actor: Self.actor, action: "freeze", limit: 10))
            #expect(events.count == 2 && events.allSatisfy { $0.record.target == "bot01trader" })
        }
    }
}
