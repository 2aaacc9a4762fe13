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

    /// A verifier for a key already parsed (the public half of a signer's private key).
    init(key: Curve25519.Signing.PublicKey) {
        self.key = key
    }

    public func isValid(
        signature: some StringProtocol, timestamp: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        requestPath: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.utf8.count == 88, let raw = CanonicalBase64.decode(signature), raw.count == 64 else { return false }
        return key.isValidSignature(raw, for: OKXPrehash.bytes(timestamp, method, requestPath, body))
    }
}

/// Signs OKX requests with an Ed25519 private key (the client side of ``Ed25519Verifier``, over the same prehash).
public struct Ed25519RequestSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        key = privateKey
    }

    /// The raw public key to register with the exchange.
    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// The verifier the exchange holds for this key.
    public var verifier: Ed25519Verifier { Ed25519Verifier(key: key.publicKey) }

    /// The base64 signature a client sends as `OK-ACCESS-SIGN`. Ed25519 signatures are deterministic.
    public func signature(timestamp: String, method: String, requestPath: String, body: String) -> String {
        let prehash = OKXPrehash.withParts(timestamp, method.uppercased(), requestPath, body, OKXPrehash.bytes)
        // Signing with a valid key over in-memory bytes does not fail.
        return ((try? key.signature(for: prehash)) ?? Data()).base64EncodedString()
    }
}

/// Either signature scheme, on the client side: what signs a request with the key's secret or private key.
public enum RequestSigner: Sendable {
    case hmac(OKXSigner)
    case ed25519(Ed25519RequestSigner)

    public func signature(timestamp: String, method: String, requestPath: String, body: String) -> String {
        switch self {
        case .hmac(let signer): signer.signature(timestamp: timestamp, method: method, requestPath: requestPath, body: body)
        case .ed25519(let signer): signer.signature(timestamp: timestamp, method: method, requestPath: requestPath, body: body)
        }
    }

    /// The verifier the server holds for this signer's key: HMAC keys share the secret, Ed25519 keys the public key.
    public var verifier: RequestVerifier {
        switch self {
        case .hmac(let signer): .hmac(signer)
        case .ed25519(let signer): .ed25519(signer.verifier)
        }
    }
}

/// Either signature scheme a key can use; the key cache holds one per key.
public enum RequestVerifier: Sendable {
    case hmac(OKXSigner)
    case ed25519(Ed25519Verifier)

    /// Convenience form over strings.
    public func isValid(signature: String, timestamp: String, method: String, requestPath: String, body: String) -> Bool {
        OKXPrehash.withParts(timestamp, method, requestPath, body) {
            isValid(signature: signature, timestamp: $0, method: $1, requestPath: $2, body: $3)
        }
    }

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
