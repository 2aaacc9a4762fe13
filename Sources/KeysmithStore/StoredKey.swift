import KeysmithCore

/// A key as stored: its public description plus the sealed secret and the passphrase verifier.
public struct StoredKey: Sendable, Hashable {
    public var key: APIKey
    /// AES-GCM sealed secret, bound to `key.apiKey`.
    public var sealedSecret: [UInt8]
    /// Peppered HMAC-SHA256 of the passphrase.
    public var passphraseVerifier: [UInt8]
    /// The raw Ed25519 public key of an Ed25519 key (its `sealedSecret` is empty).
    public var publicKey: [UInt8]?
    /// Peppered HMAC of an HMAC key's secret, for finding the key of a leaked secret.
    public var secretFingerprint: [UInt8]?
    /// The change sequence of the last write to this key.
    public var changeSequence: Int64

    public init(
        key: APIKey, sealedSecret: [UInt8], passphraseVerifier: [UInt8], publicKey: [UInt8]? = nil,
        secretFingerprint: [UInt8]? = nil, changeSequence: Int64 = 0
    ) {
        self.secretFingerprint = secretFingerprint
        self.key = key
        self.sealedSecret = sealedSecret
        self.passphraseVerifier = passphraseVerifier
        self.publicKey = publicKey
        self.changeSequence = changeSequence
    }
}
