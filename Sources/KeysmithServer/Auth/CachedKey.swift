import KeysmithCore

/// A key as the hot path needs it: its description, its account, and the per-key material derived once when the
/// key enters the cache (the keyed HMAC state and the passphrase verifier), never per request.
public struct CachedKey: Sendable {
    public let key: APIKey
    public let account: Account
    let signer: OKXSigner
    let passphraseVerifier: [UInt8]

    public init(key: APIKey, account: Account, secret: String, passphraseVerifier: [UInt8]) {
        self.key = key
        self.account = account
        self.signer = OKXSigner(secret: secret)
        self.passphraseVerifier = passphraseVerifier
    }
}
