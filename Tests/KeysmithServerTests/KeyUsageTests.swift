import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Last use (batched, never a write per request), self-introspection and OKX's 14-days-unused expiry.
@Suite struct KeyUsageTests {
    static let day: Int64 = 86_400_000

    @Test
    func lastUseIsWrittenInBatches() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            for _ in 0..<3 { #expect(try await h.call(.get, "/api/v5/account/balance", as: key, from: "198.51.100.9").code == "0") }
            // Recorded in memory at once; the store gets it with the next batch (at most a second later, or now).
            #expect(h.installation.usage.lastUse(key.apiKey)?.at == h.clock.milliseconds)
            await h.installation.usageWriter.flush()
            let stored = try #require(try await h.installation.store.key(apiKey: key.apiKey)?.key)
            #expect(stored.lastUsedAt == h.clock.milliseconds)
            #expect(stored.lastUsedIP == "198.51.100.9")
            // Failed attempts are no use.
            h.clock.advance(by: 1000)
            let wrong = KeyCredentials(apiKey: key.apiKey, secretKey: key.secretKey, passphrase: "Wrong-pass1")
            #expect(try await h.call(.get, "/api/v5/account/balance", as: wrong).code == "50105")
            await h.installation.usageWriter.flush()
            #expect(try await h.installation.store.key(apiKey: key.apiKey)?.key.lastUsedAt == h.clock.milliseconds - 1000)
        }
    }

    @Test
    func aKeyDescribesItself() async throws {
        try await Harness.run { h in
            let unbound = try await h.subAccountKey(permissions: [.readOnly, .trade])
            let reply = try await h.call(.get, "/api/v5/users/self/apikey", as: unbound, from: "203.0.113.4")
            #expect(reply.code == "0")
            let item = try #require(reply.data.first)
            #expect(item["apiKey"] as? String == unbound.apiKey)
            #expect(item["perm"] as? String == "read_only,trade")
            #expect(item["subAcct"] as? String == "bot01trader")
            #expect(item["expiryReason"] as? String == "inactivity")
            #expect(item["expTime"] as? String == String(h.clock.milliseconds + 14 * Self.day))
            #expect(item["lastUsedTs"] as? String == String(h.clock.milliseconds))
            #expect(item["lastUsedIp"] as? String == "203.0.113.4")
            #expect(!reply.raw.contains(unbound.secretKey) && !reply.raw.contains(unbound.passphrase))
            let bound = try await h.subAccountKey(permissions: [.readOnly, .trade], allowlist: "127.0.0.1")
            let boundItem = try #require(try await h.call(.get, "/api/v5/users/self/apikey", as: bound).data.first)
            #expect(boundItem["expTime"] as? String == "")
            #expect(boundItem["expiryReason"] as? String == "")
        }
    }

    @Test
    func unboundTradeKeyExpiresAfter14DaysUnused() async throws {
        try await Harness.run { h in
            let trade = try await h.subAccountKey(permissions: [.readOnly, .trade])
            let reader = try await h.subAccountKey(permissions: .readOnly)
            let bound = try await h.subAccountKey(permissions: [.readOnly, .trade], allowlist: "127.0.0.1")
            h.clock.advance(by: 13 * Self.day)
            #expect(try await h.call(.get, "/api/v5/account/balance", as: trade).code == "0")   // use restarts the 14 days
            h.clock.advance(by: 14 * Self.day - 1)
            #expect(try await h.call(.get, "/api/v5/account/balance", as: trade).code == "0")
            h.clock.advance(by: 14 * Self.day)
            let expired = try await h.call(.get, "/api/v5/account/balance", as: trade)
            #expect(expired.code == "50111")
            #expect(expired.msg.contains("expired"))
            // Read-only and IP-bound keys do not expire unused.
            #expect(try await h.call(.get, "/api/v5/account/balance", as: reader).code == "0")
            #expect(try await h.call(.get, "/api/v5/account/balance", as: bound).code == "0")
        }
    }
}
