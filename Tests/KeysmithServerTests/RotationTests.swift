import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// `keysmith apikey rotate`: a successor inheriting every setting, and an old key that works only for the grace period.
@Suite struct RotationTests {
    static let config = "/api/v5/account/config"
    static let hour: Int64 = 3_600_000

    @Test
    func successorInheritsEverythingAndTheOldKeyLastsTheGracePeriod() async throws {
        try await Harness.run { h in
            let account = try await h.existingOrNewSubAccount("bot01trader")
            let expiresAt = h.clock.milliseconds + 10 * 24 * Self.hour
            let old = try await h.installation.keys.create(
                NewKeyRequest(
                    account: account, label: "bot", permissions: [.readOnly, .trade], allowlist: try IPAllowlist(okx: "127.0.0.1,::1"),
                    passphrase: "Bot-pass-123", expiresAt: expiresAt, rateLimit: try RateLimit(parsing: "50/s")), origin: .test)
            let rotated = try await h.installation.keys.rotate(apiKey: old.key.apiKey, grace: 24 * Self.hour, origin: .test)
            let new = rotated.key
            #expect(new.label == "bot-r2")
            #expect(new.permissions == old.key.permissions)
            #expect(new.allowlist == old.key.allowlist)
            #expect(new.expiresAt == expiresAt)   // a temporary key stays temporary
            #expect(new.rateLimit == old.key.rateLimit)
            #expect(new.rotatedFrom == old.key.apiKey)
            #expect(!rotated.passphraseChanged)
            #expect(rotated.oldKeyExpiresAt == h.clock.milliseconds + 24 * Self.hour)
            // The successor works at once with the old passphrase; so does the old key, until the grace period ends.
            let successor = KeyCredentials(apiKey: new.apiKey, secretKey: rotated.credentials.secretKey, passphrase: "Bot-pass-123")
            #expect(try await h.call(.get, Self.config, as: successor).data.first?["label"] as? String == "bot-r2")
            #expect(try await h.call(.get, Self.config, as: old.credentials).code == "0")
            h.clock.advance(by: 24 * Self.hour)
            let expired = try await h.call(.get, Self.config, as: old.credentials)
            #expect(expired.code == "50111")
            #expect(expired.msg.contains("expired"))
            #expect(try await h.call(.get, Self.config, as: successor).code == "0")
            // Rotating again counts the generation up.
            #expect(try await h.installation.keys.rotate(apiKey: new.apiKey, grace: 0, origin: .test).key.label == "bot-r3")
        }
    }

    @Test
    func aNewPassphraseCanBeSet() async throws {
        try await Harness.run { h in
            let old = try await h.subAccountKey()
            let rotated = try await h.installation.keys.rotate(apiKey: old.apiKey, grace: 0, passphrase: "New-pass-456", origin: .test)
            #expect(rotated.passphraseChanged)
            let successor = KeyCredentials(apiKey: rotated.key.apiKey, secretKey: rotated.credentials.secretKey, passphrase: "New-pass-456")
            #expect(try await h.call(.get, Self.config, as: successor).code == "0")
            #expect(try await h.call(.get, Self.config, as: old).code == "50111")
        }
    }

    @Test
    func rejectsBadRotationsAndChangesNothing() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let account = try await h.existingOrNewSubAccount("bot01trader")
            for grace in [Int64(-1), 30 * 24 * Self.hour + 1] {
                let error = await #expect(throws: OKXError.self) { try await h.installation.keys.rotate(apiKey: key.apiKey, grace: grace, origin: .test) }
                #expect(error?.code == "51000")
            }
            let weak = await #expect(throws: OKXError.self) { try await h.installation.keys.rotate(apiKey: key.apiKey, grace: 0, passphrase: "weak", origin: .test) }
            #expect(weak?.code == "59505")
            try await h.installation.keys.revoke(apiKey: key.apiKey, reason: "test", origin: .test)
            let revoked = await #expect(throws: OKXError.self) { try await h.installation.keys.rotate(apiKey: key.apiKey, grace: 0, origin: .test) }
            #expect(revoked?.code == "59506")
            #expect(try await h.installation.keys.keys(of: account, includeRevoked: true).count == 1)
        }
    }

    @Test
    func scannableSecretsAuthenticateAndNameTheirKey() async throws {
        try await Harness.run { h in
            let account = try await h.existingOrNewSubAccount("bot01trader")
            var request = NewKeyRequest(account: account, label: "scannable")
            request.secretFormat = .scannable
            let created = try await h.installation.keys.create(request, origin: .test)
            #expect(ScannableSecret.isValid(created.credentials.secretKey))
            #expect(try await h.call(.get, Self.config, as: created.credentials).code == "0")
            #expect(try await h.installation.keys.key(bySecret: created.credentials.secretKey)?.apiKey == created.key.apiKey)
            #expect(try await h.installation.keys.key(bySecret: ScannableSecret.generate()) == nil)
            // Rotation keeps the format; hex keys are found by their secret too.
            let rotated = try await h.installation.keys.rotate(apiKey: created.key.apiKey, grace: 0, origin: .test)
            #expect(ScannableSecret.isValid(rotated.credentials.secretKey))
            let hex = try await h.installation.keys.create(NewKeyRequest(account: account, label: "hex"), origin: .test)
            #expect(KeyMaterial.isSecret(hex.credentials.secretKey))
            #expect(try await h.installation.keys.key(bySecret: hex.credentials.secretKey)?.apiKey == hex.key.apiKey)
        }
    }
}
