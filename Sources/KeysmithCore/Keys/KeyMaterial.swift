import Foundation

/// Fresh API-key material from the system's cryptographically secure generator.
///
/// - API key: a UUID string (`"2b6d5a1e-…"`), what clients send as `OK-ACCESS-KEY`.
/// - Secret: 32 uppercase hexadecimal characters (128 bits), OKX's format.
/// - Passphrase: 20 characters that always satisfy ``PassphrasePolicy``.
///
/// ```swift
/// var rng = SystemRandomNumberGenerator()
/// let secret = KeyMaterial.secret(using: &rng)    // "9F2C…" (32 chars)
/// ```
public enum KeyMaterial {
    /// A new public key id (random UUID, version 4).
    public static func apiKey() -> String {
        UUID().uuidString.lowercased()
    }

    /// A new 128-bit secret as 32 uppercase hex characters.
    public static func secret<G: RandomNumberGenerator>(using generator: inout G) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<16 { bytes.append(UInt8.random(in: .min ... .max, using: &generator)) }
        return bytes.uppercaseHex
    }

    /// `count` bytes from the system CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A new 128-bit secret from the system CSPRNG.
    public static func secret() -> String {
        var generator = SystemRandomNumberGenerator()
        return secret(using: &generator)
    }

    /// A generated passphrase that complies with OKX's policy: 20 characters drawn from letters, digits and
    /// a few unambiguous specials, with one of each class guaranteed.
    public static func passphrase() -> String {
        var generator = SystemRandomNumberGenerator()
        let lower = Array("abcdefghijkmnopqrstuvwxyz"), upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let digits = Array("23456789"), specials = Array("!@#%^*-_=+")
        let all = lower + upper + digits + specials
        func pick(_ pool: [Character]) -> Character { pool[Int.random(in: 0..<pool.count, using: &generator)] }
        var characters = [pick(lower), pick(upper), pick(digits), pick(specials)]
        while characters.count < 20 { characters.append(pick(all)) }
        characters.shuffle(using: &generator)
        return String(characters)
    }

    /// A new account uid: 16 decimal digits, never starting with 0 (OKX uids are long digit strings).
    public static func accountUID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 1_000_000_000_000_000...9_999_999_999_999_999, using: &generator))
    }

    /// Whether `text` has the API-key form (a UUID).
    public static func isAPIKey(_ text: String) -> Bool {
        UUID(uuidString: text) != nil
    }

    /// Whether `text` has the secret form (32 uppercase hex characters).
    public static func isSecret(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }
    }
}

extension Collection where Element == UInt8 {
    /// Uppercase hexadecimal text of these bytes.
    public var uppercaseHex: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}


extension Collection where Element == UInt8 {
    /// Lowercase hexadecimal text of these bytes.
    public var lowercaseHex: String { uppercaseHex.lowercased() }
}

extension Array where Element == UInt8 {
    /// Bytes from hexadecimal text (either case); nil for anything else.
    public init?(hex text: String) {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x41...0x46: v = c - 0x41 + 10
            case 0x61...0x66: v = c - 0x61 + 10
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        guard high == nil else { return nil }
        self = out
    }
}
