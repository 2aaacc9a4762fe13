import Crypto
import Foundation

/// Turns passphrases into peppered HMAC-SHA256 verifiers and checks them in constant time.
/// The store keeps only verifiers; the pepper is derived from the master key and never stored.
///
/// ```swift
/// let verifier = PassphraseVerifier(pepper: pepperBytes)
/// let stored = verifier.verifier(for: "Abcdef1!")
/// verifier.matches("Abcdef1!", verifier: stored)   // true
/// ```
public struct PassphraseVerifier: Sendable {
    private let keyed: HMAC<SHA256>

    public init(pepper: [UInt8]) {
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: pepper))
    }

    public func verifier(for passphrase: String) -> [UInt8] {
        var passphrase = passphrase
        return passphrase.withUTF8 { Array(code(UnsafeRawBufferPointer($0))) }
    }

    /// Constant-time check of raw passphrase bytes (as received in a header) against a stored verifier.
    public func matches(_ passphrase: UnsafeRawBufferPointer, verifier: [UInt8]) -> Bool {
        code(passphrase) == verifier
    }

    public func matches(_ passphrase: String, verifier: [UInt8]) -> Bool {
        var passphrase = passphrase
        return passphrase.withUTF8 { matches(UnsafeRawBufferPointer($0), verifier: verifier) }
    }

    private func code(_ bytes: UnsafeRawBufferPointer) -> HashedAuthenticationCode<SHA256> {
        var hmac = keyed
        hmac.update(data: bytes)
        return hmac.finalize()
    }
}
