import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

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
