import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

/// A failure to open, read or change a vault. Messages name files and credential names, never a secret.
public enum VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    case notInitialized(String)
    case alreadyExists(String)
    case keyMissing(String)
    case unsafePermissions(path: String, mode: String)
    case wrongKey
    case damaged(String)
    case passphraseRequired
    case noSuchCredential(String)
    case duplicateName(String)
    case invalidName(String)
    case io(String)

    public var description: String {
        switch self {
        case .notInitialized(let path): "no vault at \(path); create one with: keysmith vault init"
        case .alreadyExists(let path): "a vault already exists at \(path)"
        case .keyMissing(let path): "the vault key \(path) is missing; restore it or set KEYSMITH_VAULT_KEY"
        case .unsafePermissions(let path, let mode):
            "\(path) is readable by other users (mode \(mode)); refusing to use it — fix with: chmod 600 \(path)"
        case .wrongKey: "this key does not open the vault (wrong KEYSMITH_VAULT_KEY, key file or passphrase)"
        case .damaged(let reason): "the vault file has been altered or damaged: \(reason)"
        case .passphraseRequired: "this vault is protected by a passphrase; set KEYSMITH_VAULT_PASSPHRASE or run in a terminal"
        case .noSuchCredential(let name): "no credential named \(name) in the vault"
        case .duplicateName(let name): "a credential named \(name) already exists; remove it first or use link rotate"
        case .invalidName(let name): "invalid name \(name): use 1-64 letters, digits, '.', '_' or '-'"
        case .io(let reason): reason
        }
    }
}
