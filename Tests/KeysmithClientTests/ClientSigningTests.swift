import Foundation
import KeysmithClient
import KeysmithCore
import Testing

/// The same vectors the server verifies (`Tests/Vectors/okx-signatures.json`, made with Python), signed by the client.
struct ClientSigningTests {
    struct Vectors: Decodable {
        struct Vector: Decodable, Sendable, CustomTestStringConvertible {
            let timestamp, method, requestPath, body, signature: String
            var testDescription: String { "\(method) \(requestPath)" }
        }

        struct KeySet: Decodable {
            let secret: String?
            let privateKeyPem: String?
            let vectors: [Vector]
        }

        let hmac: KeySet
        let ed25519: KeySet

        static let shared: Vectors = {
            let url = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Vectors/okx-signatures.json")
            return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        }()
    }

    static func headers(_ credentials: OKXCredentials, _ v: Vectors.Vector) throws -> [String: String] {
        let client = OKXClient(baseURL: "http://127.0.0.1:1", credentials: credentials)
        return Dictionary(uniqueKeysWithValues: try client.signedHeaders(method: v.method, requestPath: v.requestPath, body: v.body, timestamp: v.timestamp))
    }

    @Test(arguments: Vectors.shared.hmac.vectors)
    func hmacHeadersMatchTheVectors(_ v: Vectors.Vector) throws {
        let credentials = try OKXCredentials(apiKey: "3c8f1a2e-key", secret: try #require(Vectors.shared.hmac.secret), passphrase: "Passphrase1!")
        let headers = try Self.headers(credentials, v)
        #expect(headers["OK-ACCESS-SIGN"] == v.signature)
        #expect(headers["OK-ACCESS-KEY"] == "3c8f1a2e-key")
        #expect(headers["OK-ACCESS-TIMESTAMP"] == v.timestamp)
        #expect(headers["OK-ACCESS-PASSPHRASE"] == "Passphrase1!")
    }

    @Test(arguments: Vectors.shared.ed25519.vectors)
    func ed25519HeadersMatchTheVectors(_ v: Vectors.Vector) throws {
        let credentials = try OKXCredentials(
            apiKey: "ed-key", scheme: .ed25519, secret: try #require(Vectors.shared.ed25519.privateKeyPem), passphrase: "Passphrase1!")
        #expect(try Self.headers(credentials, v)["OK-ACCESS-SIGN"] == v.signature)
    }

    @Test
    func signedEndpointsNeedCredentials() async throws {
        let client = OKXClient(baseURL: "http://127.0.0.1:1")
        await #expect(throws: OKXClientError.missingCredentials) { _ = try await client.balance() }
    }

    @Test(arguments: [("", "s", "p"), ("key", "", "p"), ("key", "s", ""), ("two words", "s", "p")])
    func unusableCredentialsAreRefused(_ parts: (String, String, String)) {
        #expect(throws: OKXClientError.self) { try OKXCredentials(apiKey: parts.0, secret: parts.1, passphrase: parts.2) }
    }

    @Test
    func anEd25519KeyMustBeAPrivateKey() {
        #expect(throws: OKXClientError.self) {
            try OKXCredentials(apiKey: "k", scheme: .ed25519, secret: "22582BD0CFF14C41EDBF1AB98506286D", passphrase: "p")
        }
    }

    @Test
    func credentialsNeverPrintTheirSecrets() throws {
        let secret = "22582BD0CFF14C41EDBF1AB98506286D"
        let passphrase = "Correct-Horse-9"
        let credentials = try OKXCredentials(apiKey: "3c8f1a2e-1111-2222-3333-444455556666", secret: secret, passphrase: passphrase)
        var dumped = ""
        dump(credentials, to: &dumped)
        let linked = LinkedCredential(name: "okx-main-bot", url: "https://www.okx.com", demo: false, credentials: credentials)
        var dumpedLink = ""
        dump(linked, to: &dumpedLink)
        for text in [
            "\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped, "\(linked)", dumpedLink,
            String(reflecting: linked),
        ] {
            #expect(!text.contains(secret))
            #expect(!text.contains(passphrase))
            #expect(!text.contains("3c8f1a2e-1111-2222-3333-444455556666"), "the key id is shown masked")
        }
        #expect(credentials.maskedAPIKey == "3c8f…6666")
    }
}
