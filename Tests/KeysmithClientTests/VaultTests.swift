import Foundation
import KeysmithClient
import Testing

/// The credential vault on a real file system: encryption, tamper detection, permissions, atomic replacement.
struct VaultTests {
    static let secret = "9D1C2E3F4A5B6C7D8E9FA0B1C2D3E4F5"
    static let passphrase = "Pass-phrase-77"

    /// A fresh folder with a vault location inside it.
    struct Folder: ~Copyable {
        let url: URL
        let location: VaultLocation

        init() {
            url = FileManager.default.temporaryDirectory.appending(path: "keysmith-vault-\(UUID().uuidString)")
            location = VaultLocation(vault: url.appending(path: "vault"), key: .file(url.appending(path: "vault.key")))
        }

        deinit { try? FileManager.default.removeItem(at: url) }

        func mode(_ path: URL) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path.path)[.posixPermissions] as? Int)
        }

        func chmod(_ path: URL, _ mode: Int) throws {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path.path)
        }
    }

    static func credential(_ name: String, key: String = UUID().uuidString) throws -> LinkedCredential {
        LinkedCredential(
            name: name, url: "https://www.okx.com", demo: false,
            credentials: try OKXCredentials(apiKey: key, secret: secret, passphrase: passphrase))
    }

    @Test
    func initCreatesPrivateFilesAndCredentialsRoundTrip() throws {
        let folder = Folder()
        try CredentialVault.initialize(folder.location)
        #expect(try folder.mode(folder.location.vault) == 0o600)
        #expect(try folder.mode(folder.url.appending(path: "vault.key")) == 0o600)
        #expect(try folder.mode(folder.url) == 0o700)
        let added = try Self.credential("okx-main-bot")
        try CredentialVault.update(folder.location) { vault in try vault.add(added) }
        let reopened = try CredentialVault.open(folder.location)
        #expect(reopened.names == ["okx-main-bot"])
        #expect(try reopened.credential(named: "okx-main-bot").credentials == added.credentials)
        // Nothing secret is in the file in clear.
        let raw = try String(contentsOf: folder.location.vault, encoding: .utf8)
        #expect(!raw.contains(Self.secret))
        #expect(!raw.contains(Self.passphrase))
        #expect(!raw.contains(added.credentials.apiKey))
        #expect(!raw.contains("okx-main-bot"))
        // A second init never overwrites.
        #expect(throws: VaultError.alreadyExists(folder.location.vault.path)) { try CredentialVault.initialize(folder.location) }
    }

    @Test
    func aWrongKeyFailsCleanly() throws {
        let folder = Folder()
        try CredentialVault.update(folder.location, createIfMissing: true) { vault in try vault.add(try Self.credential("a")) }
        let other = VaultLocation(vault: folder.location.vault, key: .inline(Data(repeating: 7, count: 32).base64EncodedString()))
        #expect(throws: VaultError.wrongKey) { try CredentialVault.open(other) }
        #expect(throws: VaultError.wrongKey) { try CredentialVault.update(other) { vault in try vault.remove(named: "a") } }
        #expect(try CredentialVault.open(folder.location).names == ["a"], "a failed update changed nothing")
        let missing = VaultLocation(vault: folder.location.vault, key: .file(folder.url.appending(path: "elsewhere.key")))
        #expect(throws: VaultError.keyMissing(folder.url.appending(path: "elsewhere.key").path)) { try CredentialVault.open(missing) }
    }

    @Test(arguments: [0, 1, 17, 40, -1])
    func anyChangeToTheSealedDataIsDetected(_ position: Int) throws {
        let folder = Folder()
        try CredentialVault.update(folder.location, createIfMissing: true) { vault in try vault.add(try Self.credential("a")) }
        var file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.location.vault)) as? [String: Any])
        let sealedText = try #require(file["sealed"] as? String)
        var sealed = try #require(Data(base64Encoded: sealedText))
        let index = position < 0 ? sealed.count - 1 : position
        sealed[index] ^= 0x01
        file["sealed"] = sealed.base64EncodedString()
        try JSONSerialization.data(withJSONObject: file).write(to: folder.location.vault)
        try folder.chmod(folder.location.vault, 0o600)
        #expect(throws: VaultError.damaged("authentication failed")) { try CredentialVault.open(folder.location) }
    }

    @Test
    func headerEditsAndGarbageAreDetected() throws {
        let folder = Folder()
        try CredentialVault.update(folder.location, createIfMissing: true) { vault in try vault.add(try Self.credential("a")) }
        let original = try String(contentsOf: folder.location.vault, encoding: .utf8)
        for edited in [
            original.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2"),
            original.replacingOccurrences(of: "\"kdf\" : \"key-file\"", with: "\"kdf\" : \"none\""),
            String(original.prefix(original.count / 2)),
            "",
        ] {
            try Data(edited.utf8).write(to: folder.location.vault)
            try folder.chmod(folder.location.vault, 0o600)
            #expect { try CredentialVault.open(folder.location) } throws: { error in
                guard case .damaged = error as? VaultError else { return false }
                return true
            }
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func filesOthersCanReadAreRefused(_ mode: Int) throws {
        let folder = Folder()
        try CredentialVault.update(folder.location, createIfMissing: true) { vault in try vault.add(try Self.credential("a")) }
        try folder.chmod(folder.location.vault, mode)
        #expect(throws: VaultError.unsafePermissions(path: folder.location.vault.path, mode: String(mode, radix: 8))) {
            try CredentialVault.open(folder.location)
        }
        try folder.chmod(folder.location.vault, 0o600)
        let key = folder.url.appending(path: "vault.key")
        try folder.chmod(key, mode)
        #expect(throws: VaultError.unsafePermissions(path: key.path, mode: String(mode, radix: 8))) {
            try CredentialVault.open(folder.location)
        }
    }

    @Test
    func aCrashedWritersLeftoversNeverMatter() throws {
        let folder = Folder()
        try CredentialVault.update(folder.location, createIfMissing: true) { vault in try vault.add(try Self.credential("a")) }
        // A writer killed before its rename leaves a partial temporary file beside the vault (the state a crash can
        // leave, since the vault itself is only ever replaced by rename). The vault still opens as it was…
        let partial = folder.url.appending(path: "vault.tmp-99999-1")
        try Data("{\"format\" : \"keysmith-va".utf8).write(to: partial)
        #expect(try CredentialVault.open(folder.location).names == ["a"])
        // …and the next write cleans it up.
        try CredentialVault.update(folder.location) { vault in try vault.add(try Self.credential("b")) }
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(try CredentialVault.open(folder.location).names == ["a", "b"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test
    func concurrentWritersAllLand() async throws {
        let folder = Folder()
        let location = folder.location
        try CredentialVault.initialize(location)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try CredentialVault.update(location) { vault in try vault.add(try Self.credential("bot-\(i)")) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try CredentialVault.open(location).names.count == 16)
    }

    @Test
    func namesAreCheckedAndUnique() throws {
        let folder = Folder()
        try CredentialVault.initialize(folder.location)
        for bad in ["", "has space", "../escape", ".hidden", String(repeating: "a", count: 65), "semi;colon"] {
            #expect(throws: VaultError.invalidName(bad)) {
                try CredentialVault.update(folder.location) { vault in try vault.add(try Self.credential(bad)) }
            }
        }
        try CredentialVault.update(folder.location) { vault in try vault.add(try Self.credential("okx-main_bot.2")) }
        #expect(throws: VaultError.duplicateName("okx-main_bot.2")) {
            try CredentialVault.update(folder.location) { vault in try vault.add(try Self.credential("okx-main_bot.2")) }
        }
        #expect(throws: VaultError.noSuchCredential("nope")) {
            try CredentialVault.update(folder.location) { vault in try vault.remove(named: "nope") }
        }
    }

    @Test
    func passphraseVaults() throws {
        let folder = Folder()
        try CredentialVault.initialize(folder.location, protection: .passphrase("correct horse battery staple"))
        #expect(!FileManager.default.fileExists(atPath: folder.url.appending(path: "vault.key").path), "no key file for a passphrase vault")
        try CredentialVault.update(folder.location, passphrase: "correct horse battery staple") { vault in try vault.add(try Self.credential("a")) }
        #expect(try CredentialVault.open(folder.location, passphrase: "correct horse battery staple").names == ["a"])
        #expect(throws: VaultError.wrongKey) { try CredentialVault.open(folder.location, passphrase: "correct horse battery stapler") }
        #expect(throws: VaultError.passphraseRequired) { try CredentialVault.open(folder.location, passphrase: "") }
    }

    /// The scrypt parameters sit in the clear header, authenticated only after the key is derived: a tampered file
    /// naming costly ones (N = 2^20, r = 16, p = 4 is 2 GiB of memory) is refused as damaged before any derivation.
    @Test(arguments: [
        (1 << 20, 16, 4), (1 << 17, 8, 1), (1 << 13, 8, 1), (1 << 15, 16, 1), (1 << 15, 8, 2), (1 << 15, 1, 1), (3 << 14, 8, 1),
        (0, 8, 1), (-(1 << 15), 8, 1),
    ])
    func costlyOrUnknownScryptParametersAreRefusedBeforeDeriving(_ parameters: (Int, Int, Int)) throws {
        let folder = Folder()
        try CredentialVault.initialize(folder.location, protection: .passphrase(Self.passphrase))
        try Self.expectDamaged(folder) { header in
            #expect(header["n"] as? Int == 1 << 15 && header["r"] as? Int == 8 && header["p"] as? Int == 1, "what Keysmith writes")
            header["n"] = parameters.0
            header["r"] = parameters.1
            header["p"] = parameters.2
        }
    }

    /// Changes the vault file's clear header and expects the vault to be refused as damaged.
    private static func expectDamaged(_ folder: borrowing Folder, header change: (inout [String: Any]) -> Void) throws {
        var file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.location.vault)) as? [String: Any])
        var header = try #require(file["header"] as? [String: Any])
        change(&header)
        file["header"] = header
        try JSONSerialization.data(withJSONObject: file).write(to: folder.location.vault)
        try folder.chmod(folder.location.vault, 0o600)
        #expect { try CredentialVault.open(folder.location, passphrase: passphrase) } throws: { error in
            guard case .damaged = error as? VaultError else { return false }
            return true
        }
    }

    @Test
    func aTamperedSaltIsRefusedBeforeDeriving() throws {
        let folder = Folder()
        try CredentialVault.initialize(folder.location, protection: .passphrase(Self.passphrase))
        for salt in [String(repeating: "A", count: 1 << 20), "", "AAAA", "not base64"] {
            try Self.expectDamaged(folder) { $0["salt"] = salt }
        }
    }

    @Test
    func standardLocations() {
        let home = VaultLocation.standard(environment: ["HOME": "/home/alice"])
        #expect(home.vault.path == "/home/alice/.keysmith/vault")
        #expect(home.key == .file(URL(filePath: "/home/alice/.keysmith/vault.key")))
        let set = VaultLocation.standard(environment: ["HOME": "/h", "KEYSMITH_VAULT": "/srv/bot/vault", "KEYSMITH_VAULT_KEY": "/run/secrets/vault.key"])
        #expect(set.vault.path == "/srv/bot/vault")
        #expect(set.key == .file(URL(filePath: "/run/secrets/vault.key")))
        let inline = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(VaultLocation.standard(environment: ["HOME": "/h", "KEYSMITH_VAULT_KEY": inline]).key == .inline(inline))
    }
}
