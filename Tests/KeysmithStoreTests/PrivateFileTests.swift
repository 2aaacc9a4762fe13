import Foundation
import KeysmithStore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files holding secrets (master key, private keys, audit archives, the database) and their folders are private from
/// their creation, whatever the umask: created 0600 / 0700, never created broader and `chmod`-ed afterwards.
///
/// Each test clears the umask only around the calls it checks (the umask is the process's): with umask 0, a file
/// created with the default mode would be 0666 and a folder 0777.
@Suite(.serialized)
struct PrivateFileTests {
    static func mode(_ url: URL) throws -> mode_t {
        var info = stat()
        try #require(stat(url.path, &info) == 0, "no file at \(url.path)")
        return info.st_mode & 0o777
    }

    static func withoutUmask<T>(_ body: () throws -> T) rethrows -> T {
        let previous = umask(0)
        defer { umask(previous) }
        return try body()
    }

    @Test
    func aFileIsPrivateFromItsFirstByte() throws {
        let folder = try temporaryFolder()
        let file = folder.appending(path: "secret.key")
        // The staged file, before it is put in place, already has its final mode.
        let staged = try Self.withoutUmask { try PrivateFile.stage(Data("one".utf8), for: file) }
        #expect(try Self.mode(staged) == 0o600)
        #expect(try String(contentsOf: staged, encoding: .utf8) == "one")
        #expect(!FileManager.default.fileExists(atPath: file.path))
        try PrivateFile.commit(staged, to: file, replacing: false)
        #expect(try Self.mode(file) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: staged.path))

        try Self.withoutUmask { try PrivateFile.replace(file, contents: Data("two".utf8)) }
        #expect(try Self.mode(file) == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["secret.key"], "no temporary file left")
    }

    @Test
    func createNeverReplacesAFile() throws {
        let file = try temporaryFolder().appending(path: "master.key")
        try Self.withoutUmask { try PrivateFile.create(file, contents: Data("first".utf8)) }
        #expect(try Self.mode(file) == 0o600)
        let error = #expect(throws: StoreError.self) { try PrivateFile.create(file, contents: Data("second".utf8)) }
        #expect(error?.kind == .duplicate)
        #expect(try String(contentsOf: file, encoding: .utf8) == "first")
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["master.key"])
    }

    @Test
    func aFolderIs0700FromItsCreation() throws {
        let parent = try temporaryFolder()
        let folder = parent.appending(path: "new/keysmith-data")
        try Self.withoutUmask { try PrivateFile.makeFolder(folder) }
        #expect(try Self.mode(folder) == 0o700)
        // An existing folder is left as its owner set it.
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: folder.path)
        try PrivateFile.makeFolder(folder)
        #expect(try Self.mode(folder) == 0o750)
    }

    @Test
    func theMasterKeyFileIsPrivateUnderAnyUmask() throws {
        let file = try temporaryFolder().appending(path: "master.key")
        let created = try Self.withoutUmask { try MasterKey.loadOrCreate(file: file) }
        #expect(try Self.mode(file) == 0o600)
        let sealed = try created.secretSealer().seal("SECRET", for: "k")
        #expect(try MasterKey.loadOrCreate(file: file).secretSealer().open(sealed, for: "k") == "SECRET")
    }

    @Test
    func processesCreatingTheMasterKeyAtOnceAllGetTheSameKey() async throws {
        let file = try temporaryFolder().appending(path: "master.key")
        let keys = try await withThrowingTaskGroup(of: MasterKey.self) { group in
            for _ in 0..<8 { group.addTask { try MasterKey.loadOrCreate(file: file) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let stored = try MasterKey.loadOrCreate(file: file)
        let sealed = try stored.secretSealer().seal("SECRET", for: "k")
        for key in keys { #expect(try key.secretSealer().open(sealed, for: "k") == "SECRET") }
    }

    @Test
    func theDatabaseAndItsJournalFilesArePrivateUnderAnyUmask() throws {
        let folder = try temporaryFolder()
        let path = folder.appending(path: "keysmith.sqlite")
        let database = try Self.withoutUmask { try SQLiteDatabase(path: path.path) }
        // Migrations wrote through the write-ahead log: the database, -wal and -shm files all exist now.
        for name in ["keysmith.sqlite", "keysmith.sqlite-wal", "keysmith.sqlite-shm"] {
            #expect(try Self.mode(folder.appending(path: name)) == 0o600, "\(name)")
        }
        _ = database
    }
}
