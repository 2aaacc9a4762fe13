import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

/// One linked exchange key in the vault: where it is used and the credentials. `description` shows no secret.
public struct LinkedCredential: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// The exchange's base URL (`https://www.okx.com` or a Keysmith server).
    public let url: String
    public let demo: Bool
    public let credentials: OKXCredentials
    public let createdAt: Date
    public let updatedAt: Date
    /// When `link add`, `link validate` or `link rotate` last found it valid.
    public let validatedAt: Date?

    public init(name: String, url: String, demo: Bool, credentials: OKXCredentials, createdAt: Date = Date(), updatedAt: Date? = nil, validatedAt: Date? = nil) {
        self.name = name
        self.url = url
        self.demo = demo
        self.credentials = credentials
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.validatedAt = validatedAt
    }

    /// A client for this credential's exchange.
    public func client() -> OKXClient {
        OKXClient(baseURL: url, credentials: credentials, demo: demo)
    }

    /// The parts that are not secret (what `vault export-public` prints).
    public var publicInfo: PublicInfo {
        PublicInfo(
            name: name, url: url, demo: demo, apiKey: credentials.apiKey, scheme: credentials.scheme.rawValue,
            createdAt: createdAt, updatedAt: updatedAt, validatedAt: validatedAt)
    }

    public struct PublicInfo: Codable, Sendable, Equatable {
        public let name: String
        public let url: String
        public let demo: Bool
        public let apiKey: String
        public let scheme: String
        public let createdAt: Date
        public let updatedAt: Date
        public let validatedAt: Date?
    }

    public var description: String { "LinkedCredential(name: \(name), url: \(url), demo: \(demo), credentials: \(credentials))" }

    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            && name.first != "."
    }
}

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

// MARK: - Keys

/// The vault key with the header it goes with: the AES-GCM key and the check value are both derived with HKDF.
struct VaultKey {
    let encryption: SymmetricKey
    let checkValue: String
    let header: VaultHeader

    init(material: SymmetricKey, header: VaultHeader) {
        encryption = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("keysmith-vault/1 encryption".utf8), outputByteCount: 32)
        let check = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("keysmith-vault/1 key check".utf8), outputByteCount: 16)
        checkValue = check.withUnsafeBytes { Data($0).base64EncodedString() }
        var header = header
        header.check = checkValue
        self.header = header
    }

    func with(header: VaultHeader) -> VaultKey {
        VaultKey(encryption: encryption, checkValue: checkValue, header: header)
    }

    private init(encryption: SymmetricKey, checkValue: String, header: VaultHeader) {
        self.encryption = encryption
        self.checkValue = checkValue
        self.header = header
    }

    /// 32 bytes from base64 text (a key file's content or `KEYSMITH_VAULT_KEY`), or nil.
    static func decode(_ text: String) -> SymmetricKey? {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else { return nil }
        return SymmetricKey(data: bytes)
    }

    static func load(_ source: VaultLocation.KeySource, createIfMissing: Bool) throws(VaultError) -> VaultKey {
        switch source {
        case .inline(let text):
            guard let key = decode(text) else { throw .io("KEYSMITH_VAULT_KEY is neither a key file nor base64 of 32 bytes") }
            return VaultKey(material: key, header: .keyFile())
        case .file(let url):
            if !FileManager.default.fileExists(atPath: url.path) {
                guard createIfMissing else { throw .keyMissing(url.path) }
                try VaultFiles.makeFolder(for: url)
                let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
                try VaultFiles.createPrivate(url, contents: Data((fresh + "\n").utf8))
            }
            try VaultFiles.requirePrivate(url.path)
            let text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw .io("cannot read \(url.path)") }
            guard let key = decode(text) else { throw .io("\(url.path) does not hold a vault key (base64 of 32 bytes)") }
            return VaultKey(material: key, header: .keyFile())
        }
    }

    /// The scrypt parameters a vault may name: what ``VaultHeader/scrypt()`` writes (N = 2^15, r = 8, p = 1, a 16-byte
    /// salt) or N one step either side. The header is only authenticated after the key is derived, so anything more
    /// (a tampered N = 2^20, r = 16, p = 4 would take 2 GiB and minutes) is refused as damaged before deriving.
    static let scryptCosts: Set<Int> = [1 << 14, 1 << 15, 1 << 16]
    static let scryptSaltBytes = 16...64

    static func fromPassphrase(_ passphrase: String, header: VaultHeader) throws(VaultError) -> VaultKey {
        guard !passphrase.isEmpty else { throw .passphraseRequired }
        guard let n = header.n, scryptCosts.contains(n), header.r == 8, header.p == 1,
            let saltText = header.salt, saltText.utf8.count <= 128, let salt = Data(base64Encoded: saltText), scryptSaltBytes.contains(salt.count)
        else { throw .damaged("scrypt parameters Keysmith never writes") }
        let r = 8, p = 1
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: Data(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: n, blockSize: r, parallelism: p)
            return VaultKey(material: key, header: header)
        } catch {
            throw .io("scrypt failed: \(error)")
        }
    }
}

/// The vault file's clear header; all of it is authenticated.
struct VaultHeader: Codable, Equatable {
    var kdf: String
    var salt: String?
    var n: Int?
    var r: Int?
    var p: Int?
    var check: String

    static func keyFile() -> VaultHeader { VaultHeader(kdf: "key-file", check: "") }

    static func scrypt() -> VaultHeader {
        VaultHeader(kdf: "scrypt", salt: Data(KeyMaterial.randomBytes(16)).base64EncodedString(), n: 1 << 15, r: 8, p: 1, check: "")
    }

    var authenticatedData: Data {
        Data("keysmith-vault/1|\(kdf)|\(salt ?? "")|\(n ?? 0)|\(r ?? 0)|\(p ?? 0)|\(check)".utf8)
    }
}

struct VaultFile: Codable {
    static let formatName = "keysmith-vault"
    var format = VaultFile.formatName
    var version = 1
    var header: VaultHeader
    var sealed: String

    init(header: VaultHeader, sealed: String) {
        self.header = header
        self.sealed = sealed
    }
}

struct VaultContents: Codable {
    var credentials: [StoredCredential]
}

/// A credential as sealed inside the vault.
struct StoredCredential: Codable {
    let name: String
    let url: String
    let demo: Bool
    let apiKey: String
    let scheme: OKXCredentials.Scheme
    let secret: String
    let passphrase: String
    let createdAt: Double
    let updatedAt: Double
    let validatedAt: Double?

    init(_ credential: LinkedCredential) {
        name = credential.name
        url = credential.url
        demo = credential.demo
        apiKey = credential.credentials.apiKey
        scheme = credential.credentials.scheme
        secret = credential.credentials.secret
        passphrase = credential.credentials.passphrase
        createdAt = credential.createdAt.timeIntervalSince1970
        updatedAt = credential.updatedAt.timeIntervalSince1970
        validatedAt = credential.validatedAt?.timeIntervalSince1970
    }

    func linked() throws -> LinkedCredential {
        LinkedCredential(
            name: name, url: url, demo: demo,
            credentials: try OKXCredentials(apiKey: apiKey, scheme: scheme, secret: secret, passphrase: passphrase),
            createdAt: Date(timeIntervalSince1970: createdAt), updatedAt: Date(timeIntervalSince1970: updatedAt),
            validatedAt: validatedAt.map { Date(timeIntervalSince1970: $0) })
    }
}
