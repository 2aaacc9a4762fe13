import Crypto
import Foundation

/// Signs and verifies OKX v5 requests with an API key's secret:
/// `base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath(+query) + body))`.
///
/// The HMAC key schedule is computed once in `init`; each signature copies that state, so a signer kept per key
/// (as the server's key cache does) costs one HMAC pass per request. Verification runs over the raw request
/// target and body bytes exactly as received, and compares in constant time.
///
/// ```swift
/// let signer = OKXSigner(secret: "22582BD0CFF14C41EDBF1AB98506286D")
/// let sign = signer.signature(timestamp: "2020-12-08T09:08:57.715Z", method: "GET",
///                             requestPath: "/api/v5/account/balance?ccy=BTC", body: "")
/// signer.isValid(signature: sign, timestamp: "2020-12-08T09:08:57.715Z", method: "GET",
///                requestPath: "/api/v5/account/balance?ccy=BTC", body: "")   // true
/// ```
public struct OKXSigner: Sendable {
    private let keyed: HMAC<SHA256>

    /// - Parameter secret: the key's secret as the client holds it (its UTF-8 bytes are the HMAC key).
    public init(secret: String) {
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
    }

    /// The base64 signature a client sends as `OK-ACCESS-SIGN`.
    public func signature(timestamp: String, method: String, requestPath: String, body: String) -> String {
        Data(OKXPrehash.withParts(timestamp, method.uppercased(), requestPath, body, code)).base64EncodedString()
    }

    /// Verifies a received `OK-ACCESS-SIGN` over the raw parts of the request. `method` must already be uppercase
    /// (HTTP methods on the wire are).
    ///
    /// Only the canonical spelling is valid: the received text must equal the base64 of the expected code, byte for
    /// byte (compared in constant time). Base64 decoders ignore the unused low bits of the last character, so a
    /// decode-and-compare would accept four spellings of one signature.
    public func isValid(
        signature: some StringProtocol, timestamp: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        requestPath: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.utf8.count == 44 else { return false }
        let expected = Data(code(timestamp, method, requestPath, body)).base64EncodedString()
        return CanonicalBase64.constantTimeEquals(expected.utf8, signature.utf8)
    }

    /// Convenience form of ``isValid(signature:timestamp:method:requestPath:body:)`` over strings.
    public func isValid(signature: String, timestamp: String, method: String, requestPath: String, body: String) -> Bool {
        OKXPrehash.withParts(timestamp, method, requestPath, body) {
            isValid(signature: signature, timestamp: $0, method: $1, requestPath: $2, body: $3)
        }
    }

    private func code(
        _ timestamp: UnsafeRawBufferPointer, _ method: UnsafeRawBufferPointer,
        _ requestPath: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer
    ) -> HashedAuthenticationCode<SHA256> {
        var hmac = keyed
        hmac.update(data: timestamp)
        hmac.update(data: method)
        hmac.update(data: requestPath)
        hmac.update(data: body)
        return hmac.finalize()
    }
}

/// What an OKX signature covers: `timestamp + METHOD + requestPath(+query) + body`.
enum OKXPrehash {
    /// The four parts' UTF-8 bytes, without copying.
    static func withParts<R>(
        _ timestamp: String, _ method: String, _ requestPath: String, _ body: String,
        _ use: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R
    ) -> R {
        var timestamp = timestamp, method = method, requestPath = requestPath, body = body
        return timestamp.withUTF8 { ts in
            method.withUTF8 { m in
                requestPath.withUTF8 { p in
                    body.withUTF8 { b in
                        use(UnsafeRawBufferPointer(ts), UnsafeRawBufferPointer(m), UnsafeRawBufferPointer(p), UnsafeRawBufferPointer(b))
                    }
                }
            }
        }
    }

    /// The prehash as one buffer (what Ed25519 signs).
    static func bytes(
        _ timestamp: UnsafeRawBufferPointer, _ method: UnsafeRawBufferPointer, _ requestPath: UnsafeRawBufferPointer,
        _ body: UnsafeRawBufferPointer
    ) -> Data {
        var prehash = Data(capacity: timestamp.count + method.count + requestPath.count + body.count)
        prehash.append(contentsOf: timestamp)
        prehash.append(contentsOf: method)
        prehash.append(contentsOf: requestPath)
        prehash.append(contentsOf: body)
        return prehash
    }
}
