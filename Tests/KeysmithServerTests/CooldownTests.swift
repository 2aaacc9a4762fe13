import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Adding withdraw or widening IPs waits out the cool-down (24 h by default); narrowing applies at once.
@Suite struct CooldownTests {
    static let config = "/api/v5/account/config"
    static let hour: Int64 = 3_600_000

    @Test
    func wideningIPsWaitsAndNarrowingDoesNot() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "198.51.100.0/24")
            let account = try await h.existingOrNewSubAccount("bot01trader")
            // Narrower: at once.
            let narrowed = try await h.installation.keys.modify(
                apiKey: key.apiKey, of: account, label: nil, permissions: nil, allowlist: try IPAllowlist(okx: "198.51.100.0/28"), origin: .test)
            #expect(narrowed.allowlist.okxString == "198.51.100.0/28")
            #expect(try await h.installation.keys.pending(apiKey: key.apiKey) == nil)
            #expect(try await h.call(.get, Self.config, as: key, from: "198.51.100.200").code == "50110")
            // Wider (a new range): the covered part applies now, the rest after 24 h.
            let widened = try await h.installation.keys.modify(
                apiKey: key.apiKey, of: account, label: "renamed", permissions: nil,
                allowlist: try IPAllowlist(okx: "198.51.100.0/28,203.0.113.0/24"), origin: .test)
            #expect(widened.label == "renamed")
            #expect(widened.allowlist.okxString == "198.51.100.0/28")
            let pending = try #require(try await h.installation.keys.pending(apiKey: key.apiKey))
            #expect(pending.allowlist.okxString == "198.51.100.0/28,203.0.113.0/24")
            #expect(pending.effectiveAt == h.clock.milliseconds + 24 * Self.hour)
            #expect(try await h.call(.get, Self.config, as: key, from: "203.0.113.5").code == "50110")
            h.clock.advance(by: 24 * Self.hour - 1)
            #expect(try await h.installation.keys.applyDueChanges().isEmpty)
            h.clock.advance(by: 1)
            #expect(try await h.installation.keys.applyDueChanges() == [key.apiKey])
            #expect(try await h.call(.get, Self.config, as: key, from: "203.0.113.5").code == "0")
            #expect(try await h.installation.keys.pending(apiKey: key.apiKey) == nil)
        }
    }

    @Test
    func unbindingWaitsAndCanBeCancelled() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            let account = try await h.existingOrNewSubAccount("bot01trader")
            // Unbinding (OKX: "ip": "") would admit every address: it cools down; the key stays bound meanwhile.
            let reply = try await h.call(
                .post, "/api/v5/users/subaccount/modify-apikey", body: #"{"subAcct":"bot01trader","apiKey":"\#(key.apiKey)","ip":""}"#,
                as: h.master)
            #expect(reply.code == "0")
            #expect(reply.data.first?["ip"] as? String == "127.0.0.1")
            #expect(try await h.installation.keys.pending(apiKey: key.apiKey)?.allowlist.isEmpty == true)
            try await h.installation.keys.cancelPending(apiKey: key.apiKey, origin: .test)
            h.clock.advance(by: 48 * Self.hour)
            #expect(try await h.installation.keys.applyDueChanges().isEmpty)
            #expect(try await h.call(.get, Self.config, as: key, from: "203.0.113.5").code == "50110")
            let again = await #expect(throws: OKXError.self) { try await h.installation.keys.cancelPending(apiKey: key.apiKey, origin: .test) }
            #expect(again?.code == "59506")
            _ = account
        }
    }

    @Test
    func addingWithdrawToAMasterKeyWaits() async throws {
        try await Harness.run { h in
            let master = try await h.installation.accounts.master()
            let created = try await h.installation.keys.create(
                NewKeyRequest(account: master, label: "ops", permissions: [.readOnly, .trade], allowlist: .loopback), origin: .test)
            let modified = try await h.installation.keys.modify(
                apiKey: created.key.apiKey, of: master, label: nil, permissions: [.readOnly, .trade, .withdraw], allowlist: nil, origin: .test)
            #expect(!modified.permissions.contains(.withdraw))
            #expect(try await h.installation.keys.pending(apiKey: created.key.apiKey)?.permissions.contains(.withdraw) == true)
            // Removing trade at the same time applies at once.
            let narrower = try await h.installation.keys.modify(
                apiKey: created.key.apiKey, of: master, label: nil, permissions: [.readOnly, .withdraw], allowlist: nil, origin: .test)
            #expect(narrower.permissions == .readOnly)
            h.clock.advance(by: 24 * Self.hour)
            try await h.installation.keys.applyDueChanges()
            let config = try await h.call(.get, Self.config, as: created.credentials)
            #expect(config.data.first?["perm"] as? String == "read_only,withdraw")
            // A revoked key's pending change goes with it.
            _ = try await h.installation.keys.modify(apiKey: created.key.apiKey, of: master, label: nil, permissions: nil, allowlist: .empty, origin: .test)
            try await h.installation.keys.revoke(apiKey: created.key.apiKey, reason: "test", origin: .test)
            #expect(try await h.installation.keys.pending(apiKey: created.key.apiKey) == nil)
        }
    }
}
