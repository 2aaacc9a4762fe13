import KeysmithCore
import Testing

/// Vectors computed independently with Python's `hmac`/`base64` (the algorithm both python-okx and ccxt use).
struct OKXSignerTests {
    static let secret = "22582BD0CFF14C41EDBF1AB98506286D"

    struct Vector: Sendable, CustomTestStringConvertible {
        let timestamp, method, path, body, signature: String
        var testDescription: String { "\(method) \(path)" }
    }

    static let vectors: [Vector] = [
        Vector(timestamp: "2020-12-08T09:08:57.715Z", method: "GET", path: "/api/v5/account/balance?ccy=BTC", body: "",
               signature: "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="),
        // python-okx: json.dumps with spaces.
        Vector(timestamp: "2020-12-08T09:08:57.715Z", method: "POST", path: "/api/v5/users/subaccount/apikey",
               body: #"{"subAcct": "bot01trader", "label": "bot", "perm": ""}"#,
               signature: "GIjkm+GJhax+YxGh5pUkiETr3l5Vq/8D0LCZ9jNIFuE="),
        // ccxt: compact JSON — a different body, a different signature.
        Vector(timestamp: "2020-12-08T09:08:57.715Z", method: "POST", path: "/api/v5/users/subaccount/apikey",
               body: #"{"subAcct":"bot01trader","label":"bot","perm":""}"#,
               signature: "m+AOEseOm2hhO9VceRbl5jSh7qpDwZhQ7bTtgIfOKMA="),
        // ccxt percent-encodes query values; the raw target is what is signed.
        Vector(timestamp: "2024-01-01T00:00:00.123Z", method: "GET", path: "/api/v5/trade/orders-pending?instId=BTC%2FUSDT&limit=10",
               body: "", signature: "slujKTTuRBsqfUMaDuUbweXvdgvARgoyKdE+S6TYZTc="),
    ]

    @Test(arguments: vectors)
    func signsLikeTheReferenceImplementation(_ v: Vector) {
        let signer = OKXSigner(secret: Self.secret)
        #expect(signer.signature(timestamp: v.timestamp, method: v.method, requestPath: v.path, body: v.body) == v.signature)
    }

    @Test(arguments: vectors)
    func verifiesTheReferenceSignature(_ v: Vector) {
        let signer = OKXSigner(secret: Self.secret)
        #expect(signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.path, body: v.body))
    }

    @Test
    func lowercaseMethodIsSignedUppercase() {
        let signer = OKXSigner(secret: Self.secret)
        let v = Self.vectors[0]
        #expect(signer.signature(timestamp: v.timestamp, method: "get", requestPath: v.path, body: "") == v.signature)
    }

    @Test
    func rejectsAnyChangeToTheSignedParts() {
        let signer = OKXSigner(secret: Self.secret)
        let v = Self.vectors[1]
        #expect(!signer.isValid(signature: v.signature, timestamp: "2020-12-08T09:08:57.716Z", method: v.method, requestPath: v.path, body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: "GET", requestPath: v.path, body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.path + "?x=1", body: v.body))
        #expect(!signer.isValid(signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.path, body: v.body + " "))
        #expect(!OKXSigner(secret: "22582BD0CFF14C41EDBF1AB98506286E").isValid(
            signature: v.signature, timestamp: v.timestamp, method: v.method, requestPath: v.path, body: v.body))
    }

    @Test(arguments: ["", "not base64", "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY", "AAAA", String(repeating: "A", count: 44)])
    func rejectsMalformedSignatures(_ signature: String) {
        let v = Self.vectors[0]
        #expect(!OKXSigner(secret: Self.secret).isValid(signature: signature, timestamp: v.timestamp, method: v.method, requestPath: v.path, body: v.body))
    }
}
