import KeysmithCore
import NIOCore
import Synchronization

/// A key as the hot path needs it (a class, so that passing it along a request costs one retain rather than a copy of
/// every field): its description, its account, and the per-key material derived once when the
/// key enters the cache (the keyed HMAC state and the passphrase verifier), never per request.
public final class CachedKey: Sendable {
    public let key: APIKey
    public let account: Account
    package let signer: RequestVerifier
    package let passphraseVerifier: [UInt8]
    /// Response bodies that depend only on this key and its account (`account/config`), rendered on first use.
    /// A modified key enters the cache as a new `CachedKey` with an empty memo, so a body is never stale.
    package let responses = ResponseMemo()

    /// An HMAC key, with its unsealed secret.
    public convenience init(key: APIKey, account: Account, secret: String, passphraseVerifier: [UInt8]) {
        self.init(key: key, account: account, verifier: .hmac(OKXSigner(secret: secret)), passphraseVerifier: passphraseVerifier)
    }

    public init(key: APIKey, account: Account, verifier: RequestVerifier, passphraseVerifier: [UInt8]) {
        self.key = key
        self.account = account
        self.signer = verifier
        self.passphraseVerifier = passphraseVerifier
    }
}

/// Rendered response bodies by route, filled on first use.
package final class ResponseMemo: Sendable {
    private let bodies = Mutex<[String: ByteBuffer]>([:])

    package func body(for route: String, render: () throws -> ByteBuffer) rethrows -> ByteBuffer {
        if let body = bodies.withLock({ $0[route] }) { return body }
        let body = try render()
        bodies.withLock { $0[route] = body }
        return body
    }
}
