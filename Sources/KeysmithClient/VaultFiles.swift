import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file-system steps of the vault: private folders and files, the write lock and atomic replacement.
enum VaultFiles {
    /// Creates the folder holding `file` when missing: mode 0700 from its creation (`mkdir` with that mode, never a
    /// `chmod` afterwards); missing parents get the default mode.
    static func makeFolder(for file: URL) throws(VaultError) {
        let folder = file.deletingLastPathComponent()
        guard !FileManager.default.fileExists(atPath: folder.path) else { return }
        do {
            try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(folder.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        guard mkdir(folder.path, 0o700) == 0 || errno == EEXIST else {
            throw .io("cannot create \(folder.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Refuses a file that its group or other users may read or write.
    static func requirePrivate(_ path: String) throws(VaultError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else { throw .unsafePermissions(path: path, mode: String(mode, radix: 8)) }
    }

    /// Creates a new file with mode 0600 and `contents`, flushed to disk; fails if it exists.
    static func createPrivate(_ url: URL, contents: Data) throws(VaultError) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try writeAll(fd, contents, path: url.path)
    }

    /// Replaces `url` with `contents`: written to a temporary file beside it (0600), flushed, renamed over it, and
    /// the folder flushed, so a crash at any point leaves either the old file or the new one.
    static func replaceAtomically(_ url: URL, with contents: Data) throws(VaultError) {
        let temporary = url.deletingLastPathComponent()
            .appending(path: "\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do throws(VaultError) {
            try createPrivate(temporary, contents: contents)
            guard rename(temporary.path, url.path) == 0 else {
                throw VaultError.io("cannot replace \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary.path)
            throw error
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Removes temporary files a crashed writer left (call with the lock held: no other writer is running).
    static func removeStaleTemporaries(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = "\(url.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(prefix) {
            unlink(folder.appending(path: name).path)
        }
    }

    /// Runs `body` holding an exclusive `flock` on `lockFile` (created 0600), so writers take turns.
    static func locked<T>(_ lockFile: URL, _ body: () throws -> T) throws -> T {
        let fd = open(lockFile.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.io("cannot open \(lockFile.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw VaultError.io("cannot lock \(lockFile.path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws(VaultError) {
        let failed: Int32? = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return fsync(fd) == 0 ? nil : errno
        }
        if let failed { throw .io("cannot write \(path): \(String(cString: strerror(failed)))") }
    }
}
