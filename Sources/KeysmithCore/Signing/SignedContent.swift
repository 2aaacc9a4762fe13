import Crypto

/// What a signed request commits to, as one fixed-size value: SHA-256 of the key id and the exact prehash the
/// signature covers (`timestamp + METHOD + requestPath(+query) + body`).
///
/// Replay records key on this, never on the `OK-ACCESS-SIGN` text: two requests with the same fingerprint are the
/// same signed request however their signatures are spelt, and a request that moves bytes between target and body
/// without changing the prehash is still the same signed request.
///
/// ```swift
/// let seen = SignedContent(apiKey: key, timestamp: ts, method: m, requestPath: t, body: b)
/// seen.bytes.count   // 32
/// ```
public struct SignedContent: Sendable, Hashable {
    private let digest: SHA256.Digest

    public init(
        apiKey: String, timestamp: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        requestPath: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer
    ) {
        var hasher = SHA256()
        var apiKey = apiKey
        apiKey.withUTF8 { key in
            // The key id's length first, so no key id and prehash can run into each other.
            withUnsafeBytes(of: UInt32(key.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(key))
        }
        hasher.update(bufferPointer: timestamp)
        hasher.update(bufferPointer: method)
        hasher.update(bufferPointer: requestPath)
        hasher.update(bufferPointer: body)
        digest = hasher.finalize()
    }

    /// Convenience form over strings.
    public init(apiKey: String, timestamp: String, method: String, requestPath: String, body: String) {
        self = OKXPrehash.withParts(timestamp, method, requestPath, body) {
            SignedContent(apiKey: apiKey, timestamp: $0, method: $1, requestPath: $2, body: $3)
        }
    }

    /// The 32 digest bytes (what a shared replay table stores).
    public var bytes: [UInt8] { Array(digest) }
}
