/// Secrets that leak detectably (opt-in, `--format scannable`): `ks_` + 30 random base62 characters + a 6-character
/// base62 CRC-32 of the random part, like GitHub's tokens. Scanners find them by shape and confirm them by checksum,
/// so there are no false positives; they are still ordinary HMAC secrets to python-okx and ccxt.
///
/// ```swift
/// let secret = ScannableSecret.generate()        // "ks_4Fh…" (39 characters)
/// ScannableSecret.isValid(secret)                 // true
/// ScannableSecret.find(in: fileText)              // every checksum-valid secret in the text
/// ```
public enum ScannableSecret {
    public static let prefix = "ks_"
    public static let randomLength = 30
    public static let checksumLength = 6
    public static var length: Int { prefix.count + randomLength + checksumLength }

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<randomLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return prefix + String(decoding: random + checksum(random), as: UTF8.self)
    }

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == length, text.hasPrefix(prefix), bytes.dropFirst(prefix.count).allSatisfy(alphabet.contains) else {
            return false
        }
        let random = Array(bytes[prefix.count..<(prefix.count + randomLength)])
        return Array(bytes.suffix(checksumLength)) == checksum(random)
    }

    /// Every checksum-valid scannable secret in `text`, with its 1-based line number.
    public static func find(in text: String) -> [(secret: String, line: Int)] {
        var found: [(String, Int)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line[...]
            while let start = rest.range(of: prefix) {
                let candidate = rest[start.lowerBound...].prefix(length)
                if isValid(candidate) {
                    let before = rest[..<start.lowerBound].last
                    let after = rest[candidate.endIndex...].first
                    // Whole tokens only: not part of a longer base62 run.
                    if !(before.map(isBase62) ?? false) && !(after.map(isBase62) ?? false) {
                        found.append((String(candidate), index + 1))
                    }
                }
                rest = rest[start.upperBound...]
            }
        }
        return found
    }

    /// The secret with everything but its first characters hidden, for reports.
    public static func masked(_ secret: String) -> String {
        String(secret.prefix(prefix.count + 4)) + "…"
    }

    private static func isBase62(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }

    private static func checksum(_ bytes: [UInt8]) -> [UInt8] {
        var value = UInt64(CRC32.checksum(bytes))
        var digits = [UInt8](repeating: alphabet[0], count: checksumLength)
        for i in stride(from: checksumLength - 1, through: 0, by: -1) {
            digits[i] = alphabet[Int(value % 62)]
            value /= 62
        }
        return digits
    }
}

/// CRC-32 (IEEE 802.3, as zlib): an error-detecting checksum, not a cryptographic function.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
