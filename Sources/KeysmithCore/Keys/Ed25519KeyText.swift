import Crypto
import Foundation

/// Reads and writes Ed25519 keys in the forms people have: PEM (`-----BEGIN PUBLIC KEY-----`, as OpenSSL and
/// Python's `cryptography` write), base64 of the DER SubjectPublicKeyInfo, base64 of the 32 raw bytes, or 64 hex
/// characters. Ed25519 DER encodings are a fixed prefix followed by the 32 key bytes (RFC 8410).
public enum Ed25519KeyText {
    private static let publicKeyPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
    private static let privateKeyPrefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    /// The 32 raw bytes of a public key given in any of the accepted forms.
    public static func publicKey(from text: String) throws(OKXError) -> [UInt8] {
        guard let key = rawKey(from: text, derPrefix: publicKeyPrefix), (try? Curve25519.Signing.PublicKey(rawRepresentation: key)) != nil
        else {
            throw OKXError.parameterError("publicKey").with(
                message: "Parameter publicKey error: give an Ed25519 public key as PEM, base64 (raw 32 bytes or DER) or 64 hex characters")
        }
        return key
    }

    /// A private key given as PEM PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what `keysmith keygen ed25519`, OpenSSL and
    /// Python's `cryptography` write), base64 of that DER, base64 of the 32 raw bytes, or 64 hex characters.
    public static func privateKey(from text: String) throws(OKXError) -> Curve25519.Signing.PrivateKey {
        guard let raw = rawKey(from: text, derPrefix: privateKeyPrefix),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw OKXError.parameterError("privateKey").with(
                message: "Parameter privateKey error: give an Ed25519 private key as PEM (PKCS#8), base64 (raw 32 bytes or DER) or 64 hex characters")
        }
        return key
    }

    /// The 32 key bytes of `text` in any accepted form, or nil.
    private static func rawKey(from text: String, derPrefix: [UInt8]) -> [UInt8]? {
        let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
            .trimmingCharacters(in: .whitespaces)
        var bytes: [UInt8]?
        if body.count == 64, body.allSatisfy(\.isHexDigit) {
            bytes = [UInt8](hex: body)
        } else if let decoded = Data(base64Encoded: body) {
            bytes = Array(decoded)
        }
        if let der = bytes, der.count == derPrefix.count + 32, Array(der.prefix(derPrefix.count)) == derPrefix {
            bytes = Array(der.suffix(32))
        }
        guard let key = bytes, key.count == 32 else { return nil }
        return key
    }

    /// PEM SubjectPublicKeyInfo of a public key.
    public static func publicKeyPEM(_ key: Curve25519.Signing.PublicKey) -> String {
        pem("PUBLIC KEY", publicKeyPrefix + Array(key.rawRepresentation))
    }

    /// PEM PKCS#8 of a private key (what `openssl genpkey -algorithm ed25519` writes).
    public static func privateKeyPEM(_ key: Curve25519.Signing.PrivateKey) -> String {
        pem("PRIVATE KEY", privateKeyPrefix + Array(key.rawRepresentation))
    }

    private static func pem(_ label: String, _ der: [UInt8]) -> String {
        "-----BEGIN \(label)-----\n\(Data(der).base64EncodedString())\n-----END \(label)-----\n"
    }
}
