import Crypto

/// HMAC-SHA256 of sensitive-but-useful values (the passphrase a failed attempt used, an unknown key id), keyed with
/// a key derived from the master key: the audit log never holds the value, yet an investigator holding the value can
/// ask whether it was used (`keysmith audit hash VALUE`), as Vault's audit devices do.
///
/// ```swift
/// let hasher = AuditHasher(key: derivedKey)
/// hasher.hash("Wrong-pass1")   // "hmac-sha256:3f…"
/// ```
public struct AuditHasher: Sendable {
    private let keyed: HMAC<SHA256>

    public init(key: [UInt8]) {
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
    }

    public func hash(_ value: String) -> String {
        var hmac = keyed
        hmac.update(data: Array(value.utf8))
        return "hmac-sha256:" + Array(hmac.finalize()).lowercaseHex
    }
}
