import Crypto
import KeysmithCore

/// The `Keysmith-Signature` header of webhook alerts, Stripe-style: `t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
/// HMAC, keyed with the sink's signing secret, covers `"<t>." + body`. A receiver recomputes it, compares in
/// constant time and rejects timestamps older than its tolerance, so a captured alert cannot be replayed later.
///
/// ```swift
/// let header = WebhookSignature.header(body: body, secret: secret, at: 1_700_000_000)
/// WebhookSignature.isValid(header: header, body: body, secret: secret, now: 1_700_000_010)   // true
/// ```
public enum WebhookSignature {
    public static let headerName = "Keysmith-Signature"
    /// Receivers should reject signatures older than this (seconds).
    public static let tolerance: Int64 = 300

    public static func header(body: [UInt8], secret: String, at seconds: Int64) -> String {
        "t=\(seconds),v1=\(code(body: body, secret: secret, at: seconds).lowercaseHex)"
    }

    public static func isValid(header: String, body: [UInt8], secret: String, now: Int64, tolerance: Int64 = tolerance) -> Bool {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1", let bytes = [UInt8](hex: String(pair[1])) { signatures.append(bytes) }
        }
        // The header's time is the sender's text: a difference that does not fit 64 bits is out of tolerance.
        guard let timestamp else { return false }
        let (age, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, age.magnitude <= UInt64(max(0, tolerance)) else { return false }
        let key = SymmetricKey(data: Array(secret.utf8))
        let signed = Array("\(timestamp).".utf8) + body
        return signatures.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
    }

    private static func code(body: [UInt8], secret: String, at seconds: Int64) -> [UInt8] {
        let signed = Array("\(seconds).".utf8) + body
        return Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8))))
    }
}
