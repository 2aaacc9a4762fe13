import Foundation
import KeysmithApp
import KeysmithClient
import KeysmithCore
import KeysmithServer
import Synchronization
import Testing

extension Harness {
    var baseURL: String { "http://127.0.0.1:\(client.port!)" }

    /// An SDK client for `key`. By default it keeps this machine's real clock, which is about a year ahead of the
    /// harness's manual clock: every call proves the automatic clock-skew correction.
    func sdk(_ key: KeyCredentials, configure: (inout OKXClient.Configuration) -> Void = { _ in }, clock: (@Sendable () -> Int64)? = nil) throws
        -> OKXClient
    {
        var configuration = OKXClient.Configuration(baseURL: baseURL)
        configure(&configuration)
        let credentials = try OKXCredentials(apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase)
        if let clock { return OKXClient(configuration: configuration, credentials: credentials, clock: clock) }
        return OKXClient(configuration: configuration, credentials: credentials)
    }

    func validator(_ key: KeyCredentials) throws -> LinkValidator {
        let clock = self.clock
        return LinkValidator(client: try sdk(key), apiKey: key.apiKey) { Date(timeIntervalSince1970: Double(clock.milliseconds) / 1000) }
    }
}

/// The platform-side SDK against a live Keysmith server: typed calls, typed errors, clock correction, retries,
/// and the link validator's verdicts.
@Suite struct ClientRoundTripTests {
    @Test
    func clockSkewIsMeasuredAndCorrected() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            // This machine's clock is far from the server's: uncorrected, every signed request is refused.
            let uncorrected = try h.sdk(key) { $0.correctsClockSkew = false }
            await #expect(throws: OKXClientError.self) { _ = try await uncorrected.accountConfiguration() }
            do {
                _ = try await uncorrected.accountConfiguration()
            } catch let error as OKXClientError {
                #expect(error.code == "50102")
            }
            let corrected = try h.sdk(key)
            let config = try await corrected.accountConfiguration()
            #expect(config.perm == ["read_only", "trade"])
            let offset = try #require(corrected.clockOffset)
            let expected = h.clock.milliseconds - Int64(Date().timeIntervalSince1970 * 1000)
            #expect(abs(offset.components.seconds * 1000 - expected) < 5_000)
        }
    }

    @Test
    func fundingTradingAndOrdersThroughTypedCalls() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1", rateLimit: .unlimited)
            let account = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("1000", to: account)
            let client = try h.sdk(key)

            let funding = try await client.assetBalances()
            #expect(funding.map(\.ccy) == ["USDT"])
            #expect(funding.first?.availBal == 1000)

            let moved = try await client.transfer(KeysmithClient.TransferRequest(ccy: "USDT", amount: 250.5, from: "6", to: "18", clientId: "move1"))
            #expect(moved.amt == Decimal(string: "250.5"))
            let state = try await client.transferState(clientId: "move1")
            #expect(state.state == "success" && state.transId == moved.transId)
            let trading = try await client.balance(currencies: ["USDT"])
            #expect(trading.details.first?.availBal == Decimal(string: "250.5"))

            let ack = try await client.placeOrder(OrderRequest(instId: "BTC-USDT", side: "buy", ordType: "limit", size: 0.001, price: 20000, clientOrderId: "b1"))
            #expect(ack.sCode == "0" && !ack.ordId.isEmpty)
            let order = try await client.order(instId: "BTC-USDT", orderId: ack.ordId)
            #expect(order.state == "live" && order.px == 20000 && order.clOrdId == "b1")
            #expect(try await client.pendingOrders(instId: "BTC-USDT").map(\.ordId) == [ack.ordId])
            let frozen = try await client.balance(currencies: ["USDT"])
            #expect(frozen.details.first?.frozenBal == 20)

            // A refused order surfaces its sCode.
            do {
                _ = try await client.placeOrder(OrderRequest(instId: "BTC-USDT", side: "buy", ordType: "limit", size: 1, price: 20000))
                Issue.record("an order beyond the balance was accepted")
            } catch let error as OKXClientError {
                #expect(error.code == "51008")
            }
            let amended = try await client.amendOrder(
                AmendOrderRequest(instId: "BTC-USDT", clientOrderId: "b1", newSize: 0.002, newPrice: 19000, requestId: "r1"))
            #expect(amended.sCode == "0" && amended.ordId == ack.ordId && amended.reqId == "r1")
            #expect(try await client.balance(currencies: ["USDT"]).details.first?.frozenBal == 38)
            do {
                _ = try await client.amendOrder(AmendOrderRequest(instId: "BTC-USDT", orderId: "424242", newPrice: 19000))
                Issue.record("an amendment of no order was accepted")
            } catch let error as OKXClientError {
                #expect(error.code == "51503")
            }
            let cancelled = try await client.cancelOrder(instId: "BTC-USDT", clientOrderId: "b1")
            #expect(cancelled.sCode == "0")
            #expect(try await client.pendingOrders().isEmpty)

            #expect(try await client.ticker("BTC-USDT").instId == "BTC-USDT")
            #expect(try await client.instruments().map(\.instId).contains("ETH-USDT"))
        }
    }

    @Test
    func subAccountKeyManagementFromTheMasterKey() async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let master = try h.sdk(h.master)
            #expect(try await master.subAccounts().map(\.subAcct).contains("bot01trader"))
            let created = try await master.createSubAccountAPIKey(
                subAccount: "bot01trader", label: "platform", passphrase: "Platform-Pass-1", permissions: ["read_only", "trade"], ips: ["127.0.0.1"])
            #expect(created.perm == ["read_only", "trade"] && created.ip == ["127.0.0.1"])
            // The new key works straight away through its own client.
            let platform = OKXClient(baseURL: h.baseURL, credentials: created.credentials)
            #expect(try await platform.accountConfiguration().label == "platform")
            let listed = try await master.subAccountAPIKeys(subAccount: "bot01trader")
            #expect(listed.map(\.apiKey) == [created.credentials.apiKey])
            let renamed = try await master.modifySubAccountAPIKey(subAccount: "bot01trader", apiKey: created.credentials.apiKey, label: "renamed")
            #expect(renamed.label == "renamed")
            try await master.deleteSubAccountAPIKey(subAccount: "bot01trader", apiKey: created.credentials.apiKey)
            // The server's own key writes refresh its key cache before they answer.
            do {
                _ = try await platform.accountConfiguration()
                Issue.record("the deleted key still works")
            } catch let error as OKXClientError {
                #expect(error.code == "50111")
            }
        }
    }

    @Test
    func wrongCredentialsAreTypedErrorsWithoutSecrets() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            let wrong = OKXClient(
                baseURL: h.baseURL,
                credentials: try OKXCredentials(apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase + "x"))
            do {
                _ = try await wrong.balance()
                Issue.record("a wrong passphrase was accepted")
            } catch let error as OKXClientError {
                #expect(error.code == "50105")
                #expect(!"\(error)".contains(key.secretKey) && !"\(error)".contains(key.passphrase))
            }
            var nowhere = OKXClient.Configuration(baseURL: "http://127.0.0.1:1")
            nowhere.timeout = .seconds(1)
            let unreachable = OKXClient(
                configuration: nowhere, credentials: try OKXCredentials(apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase))
            await #expect {
                _ = try await unreachable.serverTime()
            } throws: { error in
                guard case .transport = error as? OKXClientError else { return false }
                return true
            }
        }
    }

    @Test
    func rateLimitedRequestsAreRetried() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1", rateLimit: try RateLimit(parsing: "2/s"))
            let clock = h.clock
            // Without retries the third request within a second is refused with 50011.
            let impatient = try h.sdk(key, configure: { $0.rateLimitRetries = 0 }, clock: { clock.milliseconds })
            _ = try await impatient.accountConfiguration()
            _ = try await impatient.accountConfiguration()
            do {
                _ = try await impatient.accountConfiguration()
                Issue.record("the rate limit did not apply")
            } catch let error as OKXClientError {
                #expect(error.code == "50011")
            }
            // With retries, the client waits (Retry-After, capped here so the test is quick) while time moves on.
            var configuration = OKXClient.Configuration(baseURL: h.baseURL)
            configuration.maxRetryDelay = .milliseconds(20)
            let clientLogs = LogCollector()
            let patient = OKXClient(
                configuration: configuration,
                credentials: try OKXCredentials(apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase),
                logger: clientLogs.logger, clock: { clock.milliseconds })
            let ticking = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(10))
                    clock.advance(by: 100)
                }
            }
            defer { ticking.cancel() }
            for _ in 0..<6 { _ = try await patient.accountConfiguration() }
            #expect(clientLogs.text.contains("rate limited; retrying"))
            #expect(!clientLogs.text.contains(key.secretKey) && !clientLogs.text.contains(key.passphrase))
        }
    }

    @Test
    func validatorPassesAWellSetUpKey() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            let report = try await h.validator(key).validate()
            #expect(report.ok)
            #expect(report.checks.map(\.check) == ["credentials", "permissions", "ip-binding", "account", "account-mode", "position-mode", "expiry", "clock-skew"])
            for check in report.checks where check.check != "clock-skew" {
                #expect(check.status == .pass, "\(check.check): \(check.message)")
            }
            // The harness clock is a year behind this machine's: reported, corrected, not blocking.
            #expect(report.check("clock-skew")?.status == .warn)
        }
    }

    @Test
    func validatorFailsAWithdrawKeyAndWarnsAboutTheMasterAccount() async throws {
        try await Harness.run { h in
            let report = try await h.validator(h.master).validate()
            #expect(!report.ok)
            #expect(report.check("permissions")?.status == .fail)
            #expect(report.check("permissions")?.fix?.contains("Withdraw") == true)
            #expect(report.check("account")?.status == .warn)
        }
    }

    @Test
    func validatorWarnsAboutAnUnboundKey() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let report = try await h.validator(key).validate()
            #expect(report.ok)
            #expect(report.check("ip-binding")?.status == .warn)
            // Unbound trade keys expire after 14 days unused: reported, not yet near.
            #expect(report.check("expiry")?.message.contains("14 days") == true)
            #expect(report.check("expiry")?.status == .pass)
        }
    }

    @Test
    func validatorFailsWrongCredentialsAndStopsThere() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            let wrong = KeyCredentials(apiKey: key.apiKey, secretKey: key.secretKey, passphrase: "Not-The-One-1")
            let report = try await h.validator(wrong).validate()
            #expect(!report.ok)
            #expect(report.check("credentials")?.status == .fail)
            #expect(report.checks.map(\.check) == ["credentials", "clock-skew"])
        }
    }
}

extension ClientRoundTripTests {
    @Test
    func demoKeysWorkOnlyInDemoMode() async throws {
        try await Harness.run { h in
            let demo = try await h.subAccountKey(allowlist: "127.0.0.1", environment: .demo)
            #expect(try await h.sdk(demo) { $0.demo = true }.accountConfiguration().uid.isEmpty == false)
            do {
                _ = try await h.sdk(demo).accountConfiguration()
                Issue.record("a demo key worked without x-simulated-trading")
            } catch let error as OKXClientError {
                #expect(error.code == "50101")
            }
        }
    }
}

extension ClientRoundTripTests {
    /// The platform's stated needs decide: freqtrade trades one-way, a hedge-mode platform long/short, a futures
    /// platform needs an account mode above spot.
    @Test
    func validatorChecksTheModesThePlatformExpects() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey("modes01", allowlist: "127.0.0.1")
            // Each validation reads account/config: 2 s apart, inside its rate limit.
            func validated(_ validator: LinkValidator) async -> LinkReport {
                h.clock.advance(by: 2_000)
                return await validator.validate()
            }
            var validator = try h.validator(key)
            let seed = await validated(validator)
            #expect(seed.check("position-mode")?.status == .pass && seed.check("account-mode")?.message == "spot and futures (acctLv 2)")
            validator.expectation = LinkExpectation(positionMode: "long_short_mode", futures: true)
            let hedge = await validated(validator)
            #expect(!hedge.ok && hedge.check("position-mode")?.status == .fail, "\(hedge.checks)")
            #expect(hedge.check("position-mode")?.message == "one-way (net_mode), but the platform expects long/short (long_short_mode)")
            #expect(hedge.check("position-mode")?.fix?.contains("set-position-mode") == true)
            _ = try await h.call(.post, "/api/v5/account/set-position-mode", body: #"{"posMode":"long_short_mode"}"#, as: key)
            let switched = await validated(validator)
            #expect(switched.ok && switched.check("position-mode")?.message == "long/short (long_short_mode), as the platform expects")
            // Without a stated need, hedge mode is reported and only warned about.
            validator.expectation = LinkExpectation()
            #expect(await validated(validator).check("position-mode")?.status == .warn)
            // A futures platform on a spot-mode account fails; a spot one is warned.
            _ = try await h.call(.post, "/api/v5/account/set-account-level", body: #"{"acctLv":"1"}"#, as: key)
            #expect(await validated(validator).check("account-mode")?.status == .warn)
            validator.expectation = LinkExpectation(futures: true)
            let spotMode = await validated(validator)
            #expect(!spotMode.ok && spotMode.check("account-mode")?.status == .fail, "\(spotMode.checks)")
            #expect(spotMode.check("account-mode")?.fix?.contains("set-account-level") == true)
        }
    }
}
