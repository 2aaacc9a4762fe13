import Foundation
import KeysmithCore
import Testing

/// `Tests/Vectors/okx-signatures.json`: signatures made with Python's `hmac` and `cryptography`. The server side
/// verifies them here; the client's tests sign them.
struct SigningVectors: Decodable {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let timestamp, method, requestPath, body, signature: String
        var testDescription: String { "\(method) \(requestPath)" }
    }

    struct HMACSet: Decodable {
        let secret: String
        let vectors: [Vector]
    }

    struct Ed25519Set: Decodable {
        let privateKeyHex: String
        let privateKeyPem: String
        let publicKeyPem: String
        let vectors: [Vector]
    }

    let hmac: HMACSet
    let ed25519: Ed25519Set

    static let shared: SigningVectors = {
        let url = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Vectors/okx-signatures.json")
        return try! JSONDecoder().decode(SigningVectors.self, from: Data(contentsOf: url))
    }()
}

/// What the server checks: every shared vector verifies with the key's verifier, and fails with another key.
struct SharedSigningVectorTests {
    @Test(arguments: SigningVectors.shared.ed25519.vectors)
    func ed25519SignaturesVerify(_ v: SigningVectors.Vector) throws {
        let publicKey = try Ed25519KeyText.publicKey(from: SigningVectors.shared.ed25519.publicKeyPem)
        let verifier = RequestVerifier.ed25519(try Ed25519Verifier(publicKey: publicKey))
        #expect(verifier.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
        #expect(!verifier.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath + "x", body: v.body))
    }

    @Test(arguments: SigningVectors.shared.ed25519.vectors)
    func ed25519SignerReproducesTheVectors(_ v: SigningVectors.Vector) throws {
        let set = SigningVectors.shared.ed25519
        // Every private key form reads to the same key, and signing is deterministic.
        for form in [set.privateKeyPem, set.privateKeyHex] {
            let signer = Ed25519RequestSigner(privateKey: try Ed25519KeyText.privateKey(from: form))
            #expect(signer.signature(timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body) == v.signature)
            #expect(signer.publicKey == (try Ed25519KeyText.publicKey(from: set.publicKeyPem)))
            #expect(RequestSigner.ed25519(signer).verifier.isValid(
                signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
        }
    }

    @Test(arguments: SigningVectors.shared.hmac.vectors)
    func signerAndVerifierAgree(_ v: SigningVectors.Vector) {
        let signer = RequestSigner.hmac(OKXSigner(secret: SigningVectors.shared.hmac.secret))
        #expect(signer.signature(timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body) == v.signature)
        #expect(signer.verifier.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
    }

    @Test(arguments: ["", "not a key", String(repeating: "z", count: 64), "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4="])
    func rejectsMalformedPrivateKeys(_ text: String) {
        #expect(throws: OKXError.self) { try Ed25519KeyText.privateKey(from: text) }
    }
}
