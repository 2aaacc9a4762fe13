import Crypto
import Foundation

/// Seals API-key secrets with AES-256-GCM. Each sealed box is bound to its key's public id as associated data,
/// so a sealed secret copied onto another key's row does not open.
///
/// ```swift
/// let sealed = try sealer.seal("22582BD0CFF14C41EDBF1AB98506286D", for: apiKey)
/// let secret = try sealer.open(sealed, for: apiKey)
/// ```
public struct SecretSealer: Sendable {
    private let key: SymmetricKey

    init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ secret: String, for apiKey: String) throws(StoreError) -> [UInt8] {
        do {
            guard let combined = try AES.GCM.seal(Array(secret.utf8), using: key, authenticating: Array(apiKey.utf8))
                .combined
            else { throw StoreError.sealing("no combined representation") }
            return Array(combined)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.sealing("sealing failed")
        }
    }

    /// Opens a sealed secret. Fails when the master key is not the one that sealed it or the row was tampered with.
    public func open(_ sealed: [UInt8], for apiKey: String) throws(StoreError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: key, authenticating: Array(apiKey.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw StoreError.sealing("a sealed secret did not open: wrong master key or tampered row")
        }
    }
}
