import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

/// Where a vault and its key are: `$KEYSMITH_VAULT`, else `~/.keysmith/vault`; the key at `$KEYSMITH_VAULT_KEY`
/// (a key file's path, or the key itself as base64 of 32 bytes), else `~/.keysmith/vault.key`.
public struct VaultLocation: Sendable, Hashable {
    public enum KeySource: Sendable, Hashable {
        /// A 0600 file holding base64 of 32 random bytes (created by `vault init`).
        case file(URL)
        /// The key itself, from the environment.
        case inline(String)
    }

    public var vault: URL
    public var key: KeySource

    public init(vault: URL, key: KeySource) {
        self.vault = vault
        self.key = key
    }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> VaultLocation {
        let home = URL(filePath: environment["HOME"] ?? NSHomeDirectory()).appending(path: ".keysmith")
        let vault = environment["KEYSMITH_VAULT"].flatMap { $0.isEmpty ? nil : URL(filePath: $0) } ?? home.appending(path: "vault")
        let key: KeySource
        if let value = environment["KEYSMITH_VAULT_KEY"], !value.isEmpty {
            key = VaultKey.decode(value) != nil && !FileManager.default.fileExists(atPath: value) ? .inline(value) : .file(URL(filePath: value))
        } else {
            key = .file(home.appending(path: "vault.key"))
        }
        return VaultLocation(vault: vault, key: key)
    }

    var lockFile: URL { vault.deletingLastPathComponent().appending(path: vault.lastPathComponent + ".lock") }
}

/// How the vault key was made, for `vault init`: a random key in a key file, or a passphrase through scrypt.
public enum VaultProtection: Sendable {
    case keyFile
    case passphrase(String)
}
