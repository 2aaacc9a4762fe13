import Crypto
import Foundation
import KeysmithCore

/// An API key as a platform holds it: the key id, the secret (or an Ed25519 private key) and the passphrase.
///
/// Only ``apiKey`` is readable; the secret and passphrase leave this value only as request signatures and the
/// `OK-ACCESS-PASSPHRASE` header, or sealed inside a ``CredentialVault``. `description`, `debugDescription` and
/// `Mirror` (what `print`, `dump`, string interpolation and loggers use) show a masked key id and nothing else.
public struct OKXCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How the key signs: HMAC-SHA256 with the secret, or Ed25519 with a private key the exchange never saw.
    public enum Scheme: String, Sendable, Codable {
        case hmac
        case ed25519
    }

    public let apiKey: String
    public let scheme: Scheme
    /// The secret exactly as the exchange showed it (HMAC), or the private key as 64 hex characters (Ed25519).
    let secret: String
    let passphrase: String
    let signer: RequestSigner

    /// An HMAC key: the secret as shown once by the exchange.
    public init(apiKey: String, secret: String, passphrase: String) throws(OKXClientError) {
        try self.init(apiKey: apiKey, scheme: .hmac, secret: secret, passphrase: passphrase)
    }

    /// An Ed25519 key: the private key whose public half was registered with the exchange.
    public init(apiKey: String, ed25519PrivateKey: Curve25519.Signing.PrivateKey, passphrase: String) throws(OKXClientError) {
        try self.init(apiKey: apiKey, scheme: .ed25519, secret: Data(ed25519PrivateKey.rawRepresentation).lowercaseHex, passphrase: passphrase)
    }

    /// `secret` is the HMAC secret, or for Ed25519 the private key in any form `Ed25519KeyText` reads.
    public init(apiKey: String, scheme: Scheme, secret: String, passphrase: String) throws(OKXClientError) {
        let apiKey = apiKey.trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !apiKey.isEmpty, apiKey.count <= 128, apiKey.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw .invalidCredentials("the API key is empty or not a key id")
        }
        guard !secret.isEmpty else { throw .invalidCredentials("the secret is empty") }
        guard !passphrase.isEmpty else { throw .invalidCredentials("the passphrase is empty") }
        self.apiKey = apiKey
        self.scheme = scheme
        self.passphrase = passphrase
        switch scheme {
        case .hmac:
            self.secret = secret
            signer = .hmac(OKXSigner(secret: secret))
        case .ed25519:
            let key: Curve25519.Signing.PrivateKey
            do { key = try Ed25519KeyText.privateKey(from: secret) } catch {
                throw .invalidCredentials("the secret is not an Ed25519 private key (PEM, base64 or hex)")
            }
            self.secret = Data(key.rawRepresentation).lowercaseHex
            signer = .ed25519(Ed25519RequestSigner(privateKey: key))
        }
    }

    /// The key id with all but its first and last four characters hidden, for listings and logs.
    public var maskedAPIKey: String { Self.mask(apiKey) }

    public var description: String { "OKXCredentials(apiKey: \(maskedAPIKey), scheme: \(scheme.rawValue), secret: <redacted>, passphrase: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["apiKey": maskedAPIKey, "scheme": scheme.rawValue], displayStyle: .struct) }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.apiKey == rhs.apiKey && lhs.scheme == rhs.scheme && lhs.secret == rhs.secret && lhs.passphrase == rhs.passphrase
    }

    static func mask(_ text: String) -> String {
        guard text.count > 12 else { return String(repeating: "*", count: text.count) }
        return "\(text.prefix(4))…\(text.suffix(4))"
    }
}
