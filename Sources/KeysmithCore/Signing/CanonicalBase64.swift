import Foundation

/// Base64 with exactly one spelling per value. Foundation's decoder ignores the unused low bits of the last
/// character (`…A=` and `…B=` decode alike), so a value is accepted only when it re-encodes to the text received.
public enum CanonicalBase64 {
    /// The decoded bytes, or nil when `text` is not base64 or not the canonical spelling of what it decodes to.
    public static func decode(_ text: some StringProtocol) -> Data? {
        let text = String(text)
        guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else { return nil }
        return data
    }

    /// Compares two byte sequences in time that depends only on their lengths.
    static func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
