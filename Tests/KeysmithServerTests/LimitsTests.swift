import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Rate limits, the failed-authentication lockout and replay protection, over a real socket with a manual clock.
@Suite struct LimitsTests {
    static let config = "/api/v5/account/config"

    @Test
    func okxLimitPerEndpointFamilyWithRetryAfter() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            // account/config: 5 requests per 2 s.
            for _ in 0..<5 { #expect(try await h.call(.get, Self.config, as: key).code == "0") }
            let limited = try await h.call(.get, Self.config, as: key)
            #expect(limited.code == "50011")
            #expect(limited.status == 429)
            #expect(limited.headers[okx: "Retry-After"] == "1")
            // Another family has its own budget.
            #expect(try await h.call(.get, "/api/v5/account/balance", as: key).code == "0")
            // One token comes back after 400 ms.
            h.clock.advance(by: 400)
            #expect(try await h.call(.get, Self.config, as: key).code == "0")
            #expect(try await h.call(.get, Self.config, as: key).code == "50011")
        }
    }

    @Test
    func perKeyOverride() async throws {
        try await Harness.run { h in
            let unlimited = try await h.subAccountKey(rateLimit: .unlimited)
            for _ in 0..<30 { #expect(try await h.call(.get, Self.config, as: unlimited).code == "0") }
            let strict = try await h.subAccountKey(rateLimit: try RateLimit(parsing: "2/s"))
            #expect(try await h.call(.get, "/api/v5/account/balance", as: strict).code == "0")
            #expect(try await h.call(.get, "/api/v5/account/balance", as: strict).code == "0")
            let limited = try await h.call(.get, "/api/v5/account/balance", as: strict)
            #expect(limited.code == "50011")
            #expect(limited.headers[okx: "Retry-After"] == "1")
        }
    }

    @Test
    func failedAuthenticationLocksOutThatIPOnly() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let wrong = KeyCredentials(apiKey: key.apiKey, secretKey: key.secretKey, passphrase: "Wrong-pass1")
            let attacker = "203.0.113.66"
            for _ in 0..<20 { #expect(try await h.call(.get, Self.config, as: wrong, from: attacker).code == "50105") }
            // Locked out: even correct credentials from that IP get 50011 for the cool-down.
            let locked = try await h.call(.get, Self.config, as: key, from: attacker)
            #expect(locked.code == "50011")
            #expect(locked.status == 429)
            #expect(locked.headers[okx: "Retry-After"] == "300")
            // The key's legitimate caller is not locked out.
            #expect(try await h.call(.get, Self.config, as: key, from: "198.51.100.1").code == "0")
            h.clock.advance(by: 300_000)
            #expect(try await h.call(.get, Self.config, as: key, from: attacker).code == "0")
        }
    }

    @Test
    func failuresOutsideTheWindowDoNotAddUp() async throws {
        try await Harness.run { h in
            let stranger = KeyCredentials(apiKey: KeyMaterial.apiKey(), secretKey: KeyMaterial.secret(), passphrase: "x")
            for _ in 0..<19 {
                let reply = try await h.call(.get, Self.config, as: stranger)
                #expect(reply.code == "50111")
            }
            h.clock.advance(by: 61_000)
            for _ in 0..<19 {
                let reply = try await h.call(.get, Self.config, as: stranger)
                #expect(reply.code == "50111")
            }
            #expect(try await h.call(.get, Self.config, as: h.master).code == "0")
        }
    }

    @Test
    func replayedPostIs50042AndChangesNothing() async throws {
        try await Harness.run { h in
            let body = #"{"subAcct":"replayed01"}"#
            let path = "/api/v5/users/subaccount/create-subaccount"
            #expect(try await h.call(.post, path, body: body, as: h.master).code == "0")
            let replay = try await h.call(.post, path, body: body, as: h.master)
            #expect(replay.code == "50042")
            #expect(replay.msg == "Repeated request")
            #expect(try await h.installation.accounts.subAccounts().count == 1)
            // Re-signed with a fresh timestamp, the same request is no replay (and here meets the duplicate rule).
            h.clock.advance(by: 1)
            #expect(try await h.call(.post, path, body: body, as: h.master).code == "50071")
            // GETs are never replays.
            #expect(try await h.call(.get, Self.config, as: h.master).code == "0")
            #expect(try await h.call(.get, Self.config, as: h.master).code == "0")
        }
    }

    @Test
    func ofTwoIdenticalConcurrentPostsExactlyOneGoesThrough() async throws {
        try await Harness.run { h in
            let account = try await h.existingOrNewSubAccount("bot01trader")
            let body = #"{"subAcct":"bot01trader","label":"raced","passphrase":"Abcdef1!"}"#
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await h.call(.post, "/api/v5/users/subaccount/apikey", body: body, as: h.master).code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(codes.sorted() == ["0", "50042"])
            #expect(try await h.installation.keys.keys(of: account).count == 1)
        }
    }

    @Test
    func lockoutPolicyIsAServerSetting() {
        let policy = FailedAuthLockout.Policy()
        #expect(policy.threshold == 20)
        #expect(policy.windowMilliseconds == 60_000)
        #expect(policy.cooldownMilliseconds == 300_000)
        #expect(FailedAuthLockout.counts(.wrongPassphrase))
        #expect(FailedAuthLockout.counts(.ipNotAllowed("1.2.3.4")))
        #expect(!FailedAuthLockout.counts(.keyLacksPermission))
        #expect(!FailedAuthLockout.counts(.environmentMismatch))
        #expect(!FailedAuthLockout.counts(.parameterEmpty("x")))
    }

    @Test
    func publicEndpointsAreUnlimitedUnlessTheOperatorLimitsThem() async throws {
        try await Harness.run { h in
            for _ in 0..<50 {
                let reply = try await h.call(.get, "/api/v5/public/time", as: nil)
                #expect(reply.code == "0")
            }
        }
        try await Harness.run(configure: { $0.publicRateLimit = .limit(requests: 2, periodMilliseconds: 1000) }) { h in
            #expect(try await h.call(.get, "/api/v5/public/time", as: nil, from: "198.51.100.1").code == "0")
            #expect(try await h.call(.get, "/api/v5/public/time", as: nil, from: "198.51.100.1").code == "0")
            let limited = try await h.call(.get, "/api/v5/public/time", as: nil, from: "198.51.100.1")
            #expect(limited.code == "50011")
            #expect(limited.status == 429)
            // Per client IP: another address has its own budget; private endpoints are not affected.
            #expect(try await h.call(.get, "/api/v5/public/time", as: nil, from: "198.51.100.2").code == "0")
            #expect(try await h.call(.get, Self.config, as: h.master, from: "198.51.100.1").code != "50011")
        }
    }
}
