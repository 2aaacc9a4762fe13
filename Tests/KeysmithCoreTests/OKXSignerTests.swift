import KeysmithCore
import Testing

/// Vectors computed independently with Python's `hmac`/`base64` (the algorithm both python-okx and ccxt use).
struct OKXSignerTests {
    static let secret = "22582BD0CFF14C41EDBF1AB98506286D"

    typealias Vector = SigningVectors.Vector

    /// The vectors the client's tests sign with (`Tests/Vectors/okx-signatures.json`).
    static let vectors: [Vector] = SigningVectors.shared.hmac.vectors

    @Test(arguments: vectors)
    func signsLikeTheReferenceImplementation(_ v: Vector) {
        let signer = OKXSigner(secret: Self.secret)
        #expect(signer.signature(timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body) == v.signature)
    }

    @Test(arguments: vectors)
    func verifiesTheReferenceSignature(_ v: Vector) {
        let signer = OKXSigner(secret: Self.secret)
        #expect(signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
    }

    @Test
    func lowercaseMethodIsSignedUppercase() {
        let signer = OKXSigner(secret: Self.secret)
        let v = Self.vectors[0]
        #expect(signer.signature(timestamp: v.timestamp, method: "get", requestPath: v.requestPath, body: "") == v.signature)
    }

    @Test
    func rejectsAnyChangeToTheSignedParts() {
        let signer = OKXSigner(secret: Self.secret)
        let v = Self.vectors[1]
        #expect(!signer.isValid(signature: v.signature, timestamp: "2020-12-08T09:08:57.716Z", method: v.method, requestPath: v.requestPath, body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: "GET", requestPath: v.requestPath, body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath + "?x=1", body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body + " "))
        #expect(!OKXSigner(secret: "22582BD0CFF14C41EDBF1AB98506286E").isValid(
            signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
    }

    @Test(arguments: ["", "not base64", "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY", "AAAA", String(repeating: "A", count: 44)])
    func rejectsMalformedSignatures(_ signature: String) {
        let v = Self.vectors[0]
        #expect(!OKXSigner(secret: Self.secret).isValid(signature: signature, timestamp: v.timestamp, method: v.method, requestPath: v.requestPath, body: v.body))
    }
}
