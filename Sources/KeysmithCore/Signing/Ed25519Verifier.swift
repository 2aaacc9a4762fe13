import Crypto
import Foundation

/// Verifies OKX requests signed with an Ed25519 key: `OK-ACCESS-SIGN` is the base64 Ed25519 signature over the same
/// prehash as HMAC keys (`timestamp + METHOD + requestPath + body`). Keysmith holds only the public key.
///
/// ```swift
/// let verifier = try Ed25519Verifier(publicKey: Ed25519KeyText.publicKey(from: pem))
/// verifier.isValid(signature: sign, timestamp: ts, method: "GET", requestPath: "/api/v5/account/config", body: "")
/// ```
public struct Ed25519Verifier: Sendable {
    private let key: Curve25519.Signing.PublicKey

    /// - Parameter publicKey: the 32 raw bytes of the public key.
    public init(publicKey: [UInt8]) throws(OKXError) {
        do {
            key = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        } catch {
            throw OKXError.parameterError("publicKey").with(message: "Parameter publicKey error: not an Ed25519 public key")
        }
    }

    public func isValid(
        signature: some StringProtocol, timestamp: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        requestPath: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.utf8.count == 88, let raw = Data(base64Encoded: String(signature)), raw.count == 64 else { return false }
        var prehash = Data(capacity: timestamp.count + method.count + requestPath.count + body.count)
        prehash.append(contentsOf: timestamp)
        prehash.append(contentsOf: method)
        prehash.append(contentsOf: requestPath)
        prehash.append(contentsOf: body)
        return key.isValidSignature(raw, for: prehash)
    }
}

/// Either signature scheme a key can use; the key cache holds one per key.
public enum RequestVerifier: Sendable {
    case hmac(OKXSigner)
    case ed25519(Ed25519Verifier)

    public func isValid(
        signature: some StringProtocol, timestamp: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        requestPath: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer
    ) -> Bool {
        switch self {
        case .hmac(let signer):
            signer.isValid(signature: signature, timestamp: timestamp, method: method, requestPath: requestPath, body: body)
        case .ed25519(let verifier):
            verifier.isValid(signature: signature, timestamp: timestamp, method: method, requestPath: requestPath, body: body)
        }
    }
}

/// How a key signs requests.
public enum SignatureAlgorithm: String, Sendable, Hashable {
    case hmac
    case ed25519
}
