import Crypto
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Ed25519 API keys: Keysmith stores the public key only; requests are signed with the holder's private key.
@Suite struct Ed25519KeyTests {
    static func sign(_ key: Curve25519.Signing.PrivateKey, _ ts: String, _ method: String, _ path: String, _ body: String) throws -> String {
        try key.signature(for: Data((ts + method + path + body).utf8)).base64EncodedString()
    }

    @Test
    func requestsSignedWithThePrivateKeyAuthenticate() async throws {
        try await Harness.run { h in
            let privateKey = Curve25519.Signing.PrivateKey()
            let account = try await h.existingOrNewSubAccount("bot01trader")
            var request = NewKeyRequest(account: account, label: "ed", permissions: [.readOnly, .trade], passphrase: "Ed-pass-1234")
            request.ed25519PublicKey = Array(privateKey.publicKey.rawRepresentation)
            let created = try await h.installation.keys.create(request, origin: .test)
            #expect(created.key.algorithm == .ed25519)
            #expect(created.credentials.secretKey.isEmpty)

            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds)
            let credentials = KeyCredentials(apiKey: created.key.apiKey, secretKey: "", passphrase: "Ed-pass-1234")
            let get = try await h.call(.get, "/api/v5/account/config", as: credentials, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = try? Self.sign(privateKey, ts, "GET", "/api/v5/account/config", "")
            }
            #expect(get.code == "0")
            let body = #"{"subAcct":"bot01trader"}"#
            let post = try await h.call(.post, "/api/v5/users/subaccount/apikey", body: body, as: credentials, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = try? Self.sign(privateKey, ts, "POST", "/api/v5/users/subaccount/apikey", body)
            }
            #expect(post.code == "59500")   // authenticated (a sub-account key), then refused by the endpoint's rule
            // Another private key's signature, or an HMAC signature, is refused; the passphrase still counts.
            let forged = try await h.call(.get, "/api/v5/account/config", as: credentials, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = try? Self.sign(Curve25519.Signing.PrivateKey(), ts, "GET", "/api/v5/account/config", "")
            }
            #expect(forged.code == "50113")
            #expect(try await h.call(.get, "/api/v5/account/config", as: credentials).code == "50113")
            let wrongPassphrase = KeyCredentials(apiKey: created.key.apiKey, secretKey: "", passphrase: "Wrong-pass-1")
            let reply = try await h.call(.get, "/api/v5/account/config", as: wrongPassphrase, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = try? Self.sign(privateKey, ts, "GET", "/api/v5/account/config", "")
            }
            #expect(reply.code == "50105")

            // Nothing secret at rest: only the public key is stored.
            let stored = try #require(try await h.installation.store.key(apiKey: created.key.apiKey))
            #expect(stored.sealedSecret.isEmpty)
            #expect(stored.publicKey == Array(privateKey.publicKey.rawRepresentation))
            let rotate = await #expect(throws: OKXError.self) { try await h.installation.keys.rotate(apiKey: created.key.apiKey, grace: 0, origin: .test) }
            #expect(rotate?.message.contains("Ed25519") == true)
        }
    }
}
