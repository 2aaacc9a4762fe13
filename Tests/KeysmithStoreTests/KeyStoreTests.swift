import Foundation
import KeysmithCore
import KeysmithStore
import Testing

/// The key, account, app, event and audit stores, on every backend (``Backend/available``).
struct KeyStoreTests {
    @Test(arguments: Backend.available)
    func changeSequenceReportsInsertsUpdatesAndRevocations(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let store = stores.keys
            let start = try await store.keyChanges(after: 0)
            #expect(start.keys.isEmpty)
            let first = try storedKey(account: master, label: "one")
            try await store.insert(key: first, maximumPerAccount: 50, audit: audit())
            try await store.insert(key: try storedKey(account: master, label: "two"), maximumPerAccount: 50, audit: audit())
            let afterInserts = try await store.keyChanges(after: 0)
            #expect(afterInserts.keys.map(\.key.label) == ["one", "two"])

            var modified = first.key
            modified.label = "one-renamed"
            try await store.update(key: modified, pending: nil, audit: audit())
            let afterUpdate = try await store.keyChanges(after: afterInserts.latestSequence)
            #expect(afterUpdate.keys.map(\.key.label) == ["one-renamed"])
            #expect(afterUpdate.latestSequence > afterInserts.latestSequence)

            #expect(try await store.revoke(apiKey: first.key.apiKey, at: 5, reason: "test", audit: audit()))
            #expect(try await store.revoke(apiKey: first.key.apiKey, at: 6, reason: "again", audit: audit()) == false)
            let afterRevoke = try await store.keyChanges(after: afterUpdate.latestSequence)
            #expect(afterRevoke.keys.count == 1)
            #expect(afterRevoke.keys[0].key.revokedAt == 5)
            #expect(try await store.keyChanges(after: afterRevoke.latestSequence).keys.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func labelsAreUniqueAmongActiveKeys(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let store = stores.keys
            let first = try storedKey(account: master, label: "bot")
            try await store.insert(key: first, maximumPerAccount: 50, audit: audit())
            let error = await #expect(throws: StoreError.self) {
                try await store.insert(key: try storedKey(account: master, label: "bot"), maximumPerAccount: 50, audit: audit())
            }
            #expect(error?.kind == .duplicate)
            _ = try await store.revoke(apiKey: first.key.apiKey, at: 1, reason: "free the label", audit: audit())
            try await store.insert(key: try storedKey(account: master, label: "bot"), maximumPerAccount: 50, audit: audit())
        }
    }

    @Test(arguments: Backend.available)
    func keyLimitIsEnforcedInTheTransaction(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let store = stores.keys
            for i in 0..<3 { try await store.insert(key: try storedKey(account: master, label: "k\(i)"), maximumPerAccount: 3, audit: audit()) }
            let error = await #expect(throws: StoreError.self) {
                try await store.insert(key: try storedKey(account: master, label: "k3"), maximumPerAccount: 3, audit: audit())
            }
            #expect(error?.kind == .limitReached)
        }
    }

    @Test(arguments: Backend.available)
    func subAccountNamesAreUniqueAndOneMasterOnly(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let store = stores.keys
            let sub = account(name: "bot01trader", parent: master.uid)
            try await store.insert(account: sub, audit: audit())
            await #expect(throws: StoreError.self) { try await store.insert(account: account(name: "bot01trader", parent: master.uid), audit: audit()) }
            await #expect(throws: StoreError.self) { try await store.insert(account: account(name: "other", parent: nil), audit: audit()) }
            #expect(try await store.subAccount(named: "bot01trader", parentUID: master.uid) == sub)
            #expect(try await store.subAccounts(parentUID: master.uid) == [sub])
            #expect(try await store.masterAccount() == master)
        }
    }

    @Test(arguments: Backend.available)
    func aDifferentMasterKeyIsRefused(_ backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        defer { database.cleanup() }
        let first = try await database.connection()
        let master = MasterKey.generate()
        try await first.bind(master.secretSealer())
        first.close()
        let reopened = try await database.connection()
        defer { reopened.close() }
        try await reopened.bind(master.secretSealer())
        let error = await #expect(throws: StoreError.self) { try await reopened.bind(MasterKey.generate().secretSealer()) }
        #expect(error?.kind == .masterKeyMismatch)
    }
}

struct MasterKeyTests {
    @Test
    func keyFileIsCreatedPrivateAndReadBack() throws {
        let file = try temporaryFolder().appending(path: "master.key")
        let created = try MasterKey.loadOrCreate(file: file)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try MasterKey.loadOrCreate(file: file)
        let sealed = try created.secretSealer().seal("SECRET", for: "k")
        #expect(try again.secretSealer().open(sealed, for: "k") == "SECRET")
    }

    @Test
    func refusesAKeyFileOthersCanRead() throws {
        let file = try temporaryFolder().appending(path: "master.key")
        _ = try MasterKey.loadOrCreate(file: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        #expect(throws: StoreError.self) { try MasterKey.loadOrCreate(file: file) }
    }

    @Test(arguments: ["", "abc", String(repeating: "z", count: 64), String(repeating: "0", count: 62)])
    func rejectsMalformedKeys(_ text: String) {
        #expect(throws: StoreError.self) { try MasterKey(text: text) }
    }

    @Test
    func acceptsHexAndBase64() throws {
        _ = try MasterKey(text: String(repeating: "ab", count: 32))
        _ = try MasterKey(text: Data(repeating: 7, count: 32).base64EncodedString())
    }

    @Test
    func sealedSecretsAreBoundToTheirKeyAndMasterKey() throws {
        let master = MasterKey.generate()
        let sealed = try master.secretSealer().seal("22582BD0CFF14C41EDBF1AB98506286D", for: "key-a")
        #expect(!Data(sealed).contains(Data("22582BD0CFF14C41EDBF1AB98506286D".utf8)))
        #expect(throws: StoreError.self) { try master.secretSealer().open(sealed, for: "key-b") }
        #expect(throws: StoreError.self) { try MasterKey.generate().secretSealer().open(sealed, for: "key-a") }
        var tampered = sealed
        tampered[tampered.count / 2] ^= 1
        #expect(throws: StoreError.self) { try master.secretSealer().open(tampered, for: "key-a") }
    }

    @Test
    func passphraseVerifiersArePepperedByTheMasterKey() {
        let a = MasterKey.generate().passphraseVerifier(), b = MasterKey.generate().passphraseVerifier()
        #expect(a.verifier(for: "Abcdef1!") != b.verifier(for: "Abcdef1!"))
        #expect(a.matches("Abcdef1!", verifier: a.verifier(for: "Abcdef1!")))
        #expect(!a.matches("Abcdef1?", verifier: a.verifier(for: "Abcdef1!")))
    }
}

// MARK: - Helpers

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(path: "keysmith-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func account(name: String, parent: String?) -> Account {
    Account(
        uid: KeyMaterial.accountUID(), parentUID: parent, name: name, type: parent == nil ? .master : .standard,
        level: .spotAndFutures, positionMode: .net, depositsAllowed: true, frozen: false, createdAt: 1)
}

func storedKey(account: Account, label: String) throws -> StoredKey {
    let key = APIKey(
        apiKey: KeyMaterial.apiKey(), accountUID: account.uid, label: label, permissions: .readOnly, allowlist: .empty,
        environment: .live, createdAt: 1)
    return StoredKey(key: key, sealedSecret: [1, 2, 3], passphraseVerifier: [4, 5, 6])
}

/// A throwaway audit record for store writes under test.
func audit(_ action: String = "test") -> AuditRecord {
    AuditRecord(time: 1, actor: "test", action: action)
}
