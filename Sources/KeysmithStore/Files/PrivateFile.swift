import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files that hold secrets or sensitive records (the master key, Ed25519 private keys, audit archives) and the
/// folders that hold them: private from their first byte, never seen half-written.
///
/// A file's bytes go to a temporary file beside it, opened with `O_CREAT | O_EXCL` and mode 0600 (so it never
/// exists with broader permissions, whatever the umask), flushed to disk, then put in place in one step: linked
/// (``create(_:contents:)``, which never replaces a file) or renamed (``replace(_:contents:)``). A crash leaves the
/// old state or the new one. Folders are made by `mkdir` with mode 0700, never `chmod`-ed afterwards.
///
/// ```swift
/// try PrivateFile.makeFolder(dataDirectory)
/// try PrivateFile.create(dataDirectory.appending(path: "master.key"), contents: Data(text.utf8))
/// ```
public enum PrivateFile {
    /// Creates `url` with `contents` (mode 0600); throws a `.duplicate` ``StoreError`` when it exists, so two
    /// processes creating the same file at once never overwrite each other's.
    public static func create(_ url: URL, contents: Data) throws(StoreError) {
        try commit(try stage(contents, for: url), to: url, replacing: false)
    }

    /// Writes `contents` to `url` (mode 0600), replacing the file if it exists.
    public static func replace(_ url: URL, contents: Data) throws(StoreError) {
        try commit(try stage(contents, for: url), to: url, replacing: true)
    }

    /// The first step of ``create(_:contents:)`` and ``replace(_:contents:)``: `contents` written and flushed to a
    /// new temporary file beside `url`, created with mode 0600. Returns its location for ``commit(_:to:replacing:)``.
    public static func stage(_ contents: Data, for url: URL) throws(StoreError) -> URL {
        let staged = url.deletingLastPathComponent()
            .appending(path: ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(staged.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .file("cannot create \(staged.path): \(lastError())") }
        defer { close(fd) }
        if let failure = writeAll(fd, contents) {
            unlink(staged.path)
            throw .file("cannot write \(staged.path): \(failure)")
        }
        return staged
    }

    /// Puts a staged file in place (removing it whatever happens) and flushes the folder, so the new name survives
    /// a crash. Without `replacing`, an existing `url` is kept and a `.duplicate` error thrown.
    public static func commit(_ staged: URL, to url: URL, replacing: Bool) throws(StoreError) {
        defer { unlink(staged.path) }
        if replacing {
            guard rename(staged.path, url.path) == 0 else { throw .file("cannot replace \(url.path): \(lastError())") }
        } else if link(staged.path, url.path) != 0 {
            switch errno {
            case EEXIST:
                throw .duplicate("\(url.path) already exists")
            case EPERM, ENOTSUP, EOPNOTSUPP:
                // A file system without hard links: check, then rename (not atomic against a concurrent creator).
                guard access(url.path, F_OK) != 0 else { throw .duplicate("\(url.path) already exists") }
                guard rename(staged.path, url.path) == 0 else { throw .file("cannot create \(url.path): \(lastError())") }
            default:
                throw .file("cannot create \(url.path): \(lastError())")
            }
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Creates `url` as a folder with mode 0700 unless it exists; missing parents get the default mode.
    public static func makeFolder(_ url: URL) throws(StoreError) {
        guard !FileManager.default.fileExists(atPath: url.path) else { return }
        let parent = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .file("cannot create \(parent.path): \(error.localizedDescription)")
        }
        guard mkdir(url.path, 0o700) == 0 || errno == EEXIST else { throw .file("cannot create \(url.path): \(lastError())") }
    }

    /// Writes every byte and flushes them to disk; the `strerror` text of a failure, nil on success.
    private static func writeAll(_ fd: Int32, _ data: Data) -> String? {
        let failure: Int32? = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return fsync(fd) == 0 ? nil : errno
        }
        return failure.map { String(cString: strerror($0)) }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
