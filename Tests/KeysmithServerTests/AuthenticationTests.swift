import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Every OKX authentication failure, over a real socket: the right code, message and HTTP status, and the server
/// keeps serving.
@Suite struct AuthenticationTests {
    static let config = "/api/v5/account/config"

    @Test
    func validRequestSucceeds() async throws {
        try await Harness.run { h in
            let reply = try await h.call(.get, Self.config, as: h.master)
            #expect(reply.status == 200)
            #expect(reply.code == "0")
            #expect(reply.data.first?["perm"] as? String == "read_only,trade,withdraw")
            #expect(reply.data.first?["ip"] as? String == "127.0.0.1,::1")
            #expect(reply.headers[okx: "x-request-id"] != nil)
        }
    }

    @Test(arguments: [
        ("OK-ACCESS-KEY", "50103"), ("OK-ACCESS-SIGN", "50106"), ("OK-ACCESS-TIMESTAMP", "50107"), ("OK-ACCESS-PASSPHRASE", "50104"),
    ])
    func missingHeader(_ header: String, _ code: String) async throws {
        try await Harness.run { h in
            let removed = try await h.call(.get, Self.config, as: h.master) { $0[okx: header] = nil }
            #expect(removed.code == code)
            #expect(removed.status == 401)
            #expect(removed.msg.contains(header))
            let empty = try await h.call(.get, Self.config, as: h.master) { $0[okx: header] = "" }
            #expect(empty.code == code)
        }
    }

    @Test
    func unknownKeyIs50111() async throws {
        try await Harness.run { h in
            let stranger = KeyCredentials(apiKey: KeyMaterial.apiKey(), secretKey: KeyMaterial.secret(), passphrase: "Abcdef1!")
            let reply = try await h.call(.get, Self.config, as: stranger)
            #expect(reply.code == "50111")
            #expect(reply.status == 401)
        }
    }

    @Test
    func revokedKeyIs50111AtOnce() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            #expect(try await h.call(.get, Self.config, as: key).code == "0")
            try await h.installation.keys.revoke(apiKey: key.apiKey, reason: "test", origin: .test)
            #expect(try await h.call(.get, Self.config, as: key).code == "50111")
        }
    }

    @Test
    func expiredKeyIs50111SayingItExpired() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(expiresAt: h.clock.milliseconds + 60_000)
            #expect(try await h.call(.get, Self.config, as: key).code == "0")
            h.clock.advance(by: 60_000)
            let reply = try await h.call(.get, Self.config, as: key)
            #expect(reply.code == "50111")
            #expect(reply.msg.contains("expired"))
        }
    }

    @Test(arguments: ["2020-12-08 09:08:57.715Z", "1700000000", "yesterday", "2020-12-08T09:08:57.715+01:00"])
    func malformedTimestampIs50112(_ timestamp: String) async throws {
        try await Harness.run { h in
            let reply = try await h.call(.get, Self.config, as: h.master, signedAt: timestamp)
            #expect(reply.code == "50112")
            #expect(reply.status == 401)
        }
    }

    @Test(arguments: [Int64(-30_001), 30_001, -3_600_000, 86_400_000])
    func timestampOutsideTheWindowIs50102(_ offset: Int64) async throws {
        try await Harness.run { h in
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds + offset)
            let reply = try await h.call(.get, Self.config, as: h.master, signedAt: ts)
            #expect(reply.code == "50102")
            #expect(reply.status == 401)
        }
    }

    @Test(arguments: [Int64(-30_000), 30_000, 0])
    func timestampAtTheWindowEdgesIsAccepted(_ offset: Int64) async throws {
        try await Harness.run { h in
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds + offset)
            let reply1 = try await h.call(.get, Self.config, as: h.master, signedAt: ts)
            #expect(reply1.code == "0")
        }
    }

    @Test
    func badSignatureIs50113() async throws {
        try await Harness.run { h in
            let forged = KeyCredentials(apiKey: h.master.apiKey, secretKey: KeyMaterial.secret(), passphrase: h.master.passphrase)
            let reply = try await h.call(.get, Self.config, as: forged)
            #expect(reply.code == "50113")
            #expect(reply.status == 401)
            let garbage = try await h.call(.get, Self.config, as: h.master) { $0[okx: "OK-ACCESS-SIGN"] = "not-a-signature" }
            #expect(garbage.code == "50113")
        }
    }

    @Test
    func signatureCoversTheQueryAndTheBody() async throws {
        try await Harness.run { h in
            // Signed for one query, sent with another.
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds)
            let sign = OKXSigner(secret: h.master.secretKey).signature(
                timestamp: ts, method: "GET", requestPath: "/api/v5/account/balance?ccy=BTC", body: "")
            let reply = try await h.call(.get, "/api/v5/account/balance?ccy=ETH", as: h.master, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = sign
            }
            #expect(reply.code == "50113")
            // Signed body differs by one space from the sent body.
            let body = #"{"subAcct": "bot01trader"}"#
            let bodySign = OKXSigner(secret: h.master.secretKey).signature(
                timestamp: ts, method: "POST", requestPath: "/api/v5/users/subaccount/create-subaccount", body: body)
            let tampered = try await h.call(
                .post, "/api/v5/users/subaccount/create-subaccount", body: #"{"subAcct":"bot01trader"}"#, as: h.master, signedAt: ts
            ) { $0[okx: "OK-ACCESS-SIGN"] = bodySign }
            #expect(tampered.code == "50113")
            #expect(try await h.installation.accounts.subAccounts().isEmpty)
        }
    }

    @Test
    func wrongPassphraseIs50105() async throws {
        try await Harness.run { h in
            let wrong = KeyCredentials(apiKey: h.master.apiKey, secretKey: h.master.secretKey, passphrase: "Wrong-pass1")
            let reply = try await h.call(.get, Self.config, as: wrong)
            #expect(reply.code == "50105")
            #expect(reply.status == 401)
        }
    }

    @Test
    func addressOutsideTheAllowlistIs50110() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "198.51.100.0/24,2001:db8::/32")
            #expect(try await h.call(.get, Self.config, as: key, from: "198.51.100.7").code == "0")
            #expect(try await h.call(.get, Self.config, as: key, from: "2001:db8::beef").code == "0")
            let reply = try await h.call(.get, Self.config, as: key, from: "203.0.113.9")
            #expect(reply.code == "50110")
            #expect(reply.status == 401)
            #expect(reply.msg.contains("203.0.113.9"))
            // The right-most untrusted X-Forwarded-For entry is the client: a forged left entry does not help.
            #expect(try await h.call(.get, Self.config, as: key, from: "198.51.100.7, 203.0.113.9").code == "50110")
        }
    }

    @Test
    func environmentMismatchIs50101() async throws {
        try await Harness.run { h in
            let live = try await h.call(.get, Self.config, as: h.master) { $0[okx: "x-simulated-trading"] = "1" }
            #expect(live.code == "50101")
            #expect(try await h.call(.get, Self.config, as: h.master) { $0[okx: "x-simulated-trading"] = "0" }.code == "0")
            let demo = try await h.subAccountKey(environment: .demo)
            #expect(try await h.call(.get, Self.config, as: demo).code == "50101")
            #expect(try await h.call(.get, Self.config, as: demo) { $0[okx: "x-simulated-trading"] = "1" }.code == "0")
        }
    }

    @Test
    func missingPermissionIs50120() async throws {
        try await Harness.run { h in
            let readOnly = try await h.subAccountKey(permissions: .readOnly)
            let reply = try await h.call(
                .post, "/api/v5/users/subaccount/apikey", body: #"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!"}"#,
                as: readOnly)
            #expect(reply.code == "50120")
            #expect(reply.status == 200)
        }
    }

    @Test
    func checksRunInTheDocumentedOrder() async throws {
        try await Harness.run { h in
            let stranger = KeyCredentials(apiKey: KeyMaterial.apiKey(), secretKey: KeyMaterial.secret(), passphrase: "x")
            // Unknown key wins over a bad timestamp.
            let reply2 = try await h.call(.get, Self.config, as: stranger, signedAt: "bad")
            #expect(reply2.code == "50111")
            // A bad timestamp wins over a bad signature and passphrase.
            let forged = KeyCredentials(apiKey: h.master.apiKey, secretKey: KeyMaterial.secret(), passphrase: "nope")
            let reply3 = try await h.call(.get, Self.config, as: forged, signedAt: "bad")
            #expect(reply3.code == "50112")
            // A bad signature wins over a wrong passphrase.
            #expect(try await h.call(.get, Self.config, as: forged).code == "50113")
            // A wrong passphrase wins over a foreign IP.
            let wrongPass = KeyCredentials(apiKey: h.master.apiKey, secretKey: h.master.secretKey, passphrase: "Wrong-pass1")
            #expect(try await h.call(.get, Self.config, as: wrongPass, from: "203.0.113.1").code == "50105")
            // A foreign IP wins over the environment.
            #expect(try await h.call(.get, Self.config, as: h.master, from: "203.0.113.1") { $0[okx: "x-simulated-trading"] = "1" }.code == "50110")
        }
    }

    @Test
    func revocationByAnotherProcessReachesTheServerWithinASecond() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            #expect(try await h.call(.get, Self.config, as: key).code == "0")
            // A second installation on the same folder stands for the CLI running beside the server.
            let cli = try await TestBackend.open(dataDirectory: h.installation.dataDirectory, logger: .init(label: "cli"))
            try await cli.keys.revoke(apiKey: key.apiKey, reason: "revoked from the CLI", origin: .test)
            // Nothing tells this server: its next poll of the change sequence finds the revocation.
            await h.installation.cacheLoader.nextPoll()
            #expect(try await h.call(.get, Self.config, as: key).code == "50111")
            // And a poll comes at least every second in production (the harness polls faster).
            #expect(KeyCacheLoader.defaultInterval <= .seconds(1))
            #expect(h.installation.cacheLoader.interval <= KeyCacheLoader.defaultInterval)
        }
    }

    @Test
    func aCommandsKeyChangesNeverLoadTheKeyCache() async throws {
        try await Harness.run { h in
            // The CLI opens the installation as a command: its writes do not read and unseal every key into a cache.
            let cli = try await TestBackend.open(dataDirectory: h.installation.dataDirectory, role: .command, logger: .init(label: "cli"))
            let account = try await cli.accounts.createSubAccount(SubAccountRequest(name: "fromthecli"), origin: .test)
            let created = try await cli.keys.create(NewKeyRequest(account: account, label: "fresh"), origin: .test)
            #expect(Self.cachedKeys(cli) == 0)
            // The server sees the change all the same.
            #expect(try await h.call(.get, Self.config, as: created.credentials).code == "0")
        }
    }

    /// Read outside the async test body: the release optimizer crashed splitting a coroutine that inlined the cache's lock.
    @inline(never)
    private static func cachedKeys(_ installation: Installation) -> Int {
        installation.cache.count + Int(installation.cache.sequence)
    }

    @Test
    func keyCreatedByAnotherProcessWorksOnItsFirstRequest() async throws {
        try await Harness.run { h in
            let cli = try await TestBackend.open(dataDirectory: h.installation.dataDirectory, clock: h.clock, logger: .init(label: "cli"))
            let account = try await cli.accounts.createSubAccount(SubAccountRequest(name: "fromthecli"), origin: .test)
            let created = try await cli.keys.create(NewKeyRequest(account: account, label: "fresh"), origin: .test)
            // No waiting: a cache miss waits for a store refresh that began after the request arrived.
            #expect(try await h.call(.get, Self.config, as: created.credentials).code == "0")
        }
    }
}
