import Crypto
import Foundation
import KeysmithApp
import KeysmithCore

/// The CSRF token of the sign-in form, which is served before any session exists (nothing is stored for a visitor
/// who has not proven a password): a random nonce and an expiry, signed with HMAC-SHA256 under a key derived from
/// the master key, sent both as a cookie and as a form field. A sign-in is accepted only when both carry the same
/// valid token (a signed double-submit cookie): another site can neither read the `SameSite=Strict` cookie nor make
/// a token of its own, and every node accepts what another issued.
///
/// ```swift
/// let tokens = SignInFormTokens(key: formKey, clock: clock)
/// let token = tokens.issue()   // "<nonce hex>.<expiry ms>.<hmac hex>"
/// tokens.isValid(token)        // true until it expires
/// ```
struct SignInFormTokens: Sendable {
    static let cookieName = "keysmith_signin"
    /// How long a sign-in form stays usable (milliseconds).
    static let lifetime: Int64 = 2 * 3_600_000

    private let key: [UInt8]
    private let clock: any WallClock

    init(key: [UInt8], clock: any WallClock) {
        self.key = key
        self.clock = clock
    }

    func issue() -> String {
        let body = "\(KeyMaterial.randomBytes(16).lowercaseHex).\(clock.milliseconds + Self.lifetime)"
        return body + "." + Array(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: key))).lowercaseHex
    }

    /// Whether `token` was issued with this key and has not expired (the MAC compared in constant time).
    func isValid(_ token: String) -> Bool {
        guard token.utf8.count <= 128 else { return false }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[1]), expiry > clock.milliseconds, let code = [UInt8](hex: String(parts[2])) else {
            return false
        }
        let body = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: SymmetricKey(data: key))
    }
}
