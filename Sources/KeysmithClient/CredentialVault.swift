import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file of named exchange credentials, encrypted with AES-256-GCM.
///
/// The file is JSON: a header (format, version, how the key is made, a key check value) and one sealed box of
/// every credential; the header is the box's authenticated data, so any change to any byte is detected. The key
/// is 32 random bytes from a 0600 key file (or `KEYSMITH_VAULT_KEY`), or scrypt of a passphrase; HKDF derives
/// from it the encryption key and the check value that tells a wrong key from a damaged file.
///
/// Files are written to a temporary file in the same folder, flushed to disk, then renamed over the vault, so a
/// crash leaves the old vault or the new one, never a partial one. Changes take an exclusive lock, so two
/// processes adding credentials at once both land. A vault or key file other users can read is refused.
public struct CredentialVault: Sendable {
    public let location: VaultLocation
    public private(set) var credentials: [LinkedCredential]

    public var names: [String] { credentials.map(\.name) }

    public func credential(named name: String) throws(VaultError) -> LinkedCredential {
        guard let found = credentials.first(where: { $0.name == name }) else { throw .noSuchCredential(name) }
        return found
    }

    // MARK: Opening and changing

    /// Creates an empty vault (and, for `.keyFile`, a new key file unless one exists). Fails if a vault exists.
    @discardableResult
    /// Throws ``VaultError``.
    public static func initialize(_ location: VaultLocation, protection: VaultProtection = .keyFile) throws -> CredentialVault {
        try VaultFiles.makeFolder(for: location.vault)
        return try VaultFiles.locked(location.lockFile) { () throws -> CredentialVault in
            guard !FileManager.default.fileExists(atPath: location.vault.path) else { throw VaultError.alreadyExists(location.vault.path) }
            let sealing: VaultKey
            switch protection {
            case .keyFile:
                sealing = try VaultKey.load(location.key, createIfMissing: true)
            case .passphrase(let passphrase):
                sealing = try VaultKey.fromPassphrase(passphrase, header: VaultHeader.scrypt())
            }
            let vault = CredentialVault(location: location, credentials: [])
            try vault.write(with: sealing)
            return vault
        }
    }

    /// Reads the vault. `passphrase` is needed only for a passphrase vault.
    public static func open(_ location: VaultLocation, passphrase: String? = nil) throws(VaultError) -> CredentialVault {
        try read(location, passphrase: passphrase).vault
    }

    /// Reads, changes and writes the vault under an exclusive lock. With `createIfMissing`, a missing vault (and key
    /// file) is created first. Nothing is written if `change` throws. Throws ``VaultError`` or what `change` throws.
    @discardableResult
    public static func update<T>(
        _ location: VaultLocation, passphrase: String? = nil, createIfMissing: Bool = false,
        _ change: (inout CredentialVault) throws -> T
    ) throws -> T {
        try VaultFiles.makeFolder(for: location.vault)
        return try VaultFiles.locked(location.lockFile) { () throws -> T in
            if createIfMissing, !FileManager.default.fileExists(atPath: location.vault.path) {
                try CredentialVault(location: location, credentials: []).write(with: try VaultKey.load(location.key, createIfMissing: true))
            }
            var (vault, key) = try read(location, passphrase: passphrase)
            let result = try change(&vault)
            VaultFiles.removeStaleTemporaries(of: location.vault)
            try vault.write(with: key)
            return result
        }
    }

    /// Adds a credential; fails if its name is taken.
    public mutating func add(_ credential: LinkedCredential) throws(VaultError) {
        guard LinkedCredential.isValidName(credential.name) else { throw .invalidName(credential.name) }
        guard !names.contains(credential.name) else { throw .duplicateName(credential.name) }
        credentials.append(credential)
        credentials.sort { $0.name < $1.name }
    }

    /// Replaces the credential with the same name.
    public mutating func replace(_ credential: LinkedCredential) throws(VaultError) {
        guard let index = credentials.firstIndex(where: { $0.name == credential.name }) else { throw .noSuchCredential(credential.name) }
        credentials[index] = credential
    }

    @discardableResult
    public mutating func remove(named name: String) throws(VaultError) -> LinkedCredential {
        guard let index = credentials.firstIndex(where: { $0.name == name }) else { throw .noSuchCredential(name) }
        return credentials.remove(at: index)
    }

    // MARK: File format

    private static func read(_ location: VaultLocation, passphrase: String?) throws(VaultError) -> (vault: CredentialVault, key: VaultKey) {
        let path = location.vault.path
        guard FileManager.default.fileExists(atPath: path) else { throw .notInitialized(path) }
        try VaultFiles.requirePrivate(path)
        let bytes: Data
        do { bytes = try Data(contentsOf: location.vault) } catch { throw .io("cannot read \(path): \(error.localizedDescription)") }
        let file: VaultFile
        do { file = try JSONDecoder().decode(VaultFile.self, from: bytes) } catch { throw .damaged("not a Keysmith vault file") }
        guard file.format == VaultFile.formatName, file.version == 1 else { throw .damaged("unknown format or version") }
        let key: VaultKey
        switch file.header.kdf {
        case "key-file":
            key = try VaultKey.load(location.key, createIfMissing: false)
        case "scrypt":
            let passphrase = passphrase ?? ProcessInfo.processInfo.environment["KEYSMITH_VAULT_PASSPHRASE"]
            guard let passphrase else { throw .passphraseRequired }
            key = try VaultKey.fromPassphrase(passphrase, header: file.header)
        default:
            throw .damaged("unknown key derivation \(file.header.kdf)")
        }
        guard key.checkValue == file.header.check else { throw .wrongKey }
        let plaintext: Data
        do {
            guard let combined = Data(base64Encoded: file.sealed) else { throw VaultError.damaged("sealed data is not base64") }
            let box = try AES.GCM.SealedBox(combined: combined)
            plaintext = try AES.GCM.open(box, using: key.encryption, authenticating: file.header.authenticatedData)
        } catch {
            throw .damaged("authentication failed")
        }
        let contents: VaultContents
        do { contents = try JSONDecoder().decode(VaultContents.self, from: plaintext) } catch { throw .damaged("unreadable contents") }
        var credentials: [LinkedCredential] = []
        for stored in contents.credentials {
            guard let credential = try? stored.linked() else { throw .damaged("credential \(stored.name) is unusable") }
            credentials.append(credential)
        }
        return (CredentialVault(location: location, credentials: credentials), key.with(header: file.header))
    }

    private func write(with key: VaultKey) throws(VaultError) {
        let contents = VaultContents(credentials: credentials.map(StoredCredential.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            let plaintext = try encoder.encode(contents)
            let box = try AES.GCM.seal(plaintext, using: key.encryption, authenticating: key.header.authenticatedData)
            guard let combined = box.combined else { throw VaultError.io("cannot seal the vault") }
            let file = VaultFile(header: key.header, sealed: combined.base64EncodedString())
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            data = try encoder.encode(file) + Data("\n".utf8)
        } catch {
            throw .io("cannot seal the vault: \(error)")
        }
        try VaultFiles.replaceAtomically(location.vault, with: data)
    }
}
