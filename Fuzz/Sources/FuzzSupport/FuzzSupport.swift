import CFuzzDriver
import Foundation

/// Runs libFuzzer with the process's arguments (`-max_total_time=`, `-runs=`, corpus folders, …) over `test`.
///
/// SwiftPM links every executable with its own `main` (renamed `<Target>_main`), which shadows the `main` that
/// `-sanitize=fuzzer` brings; each target's `main.swift` therefore hands control to libFuzzer's driver here.
public func runFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}

/// The input bytes as a buffer (libFuzzer passes a null pointer for the empty input).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: data, count: size)
}

/// A property every input must keep. A broken one aborts, which libFuzzer reports as a crash with its reproducer.
public func property(
    _ holds: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
    guard !holds() else { return }
    FileHandle.standardError.write(Data("property failed at \(file):\(line): \(message())\n".utf8))
    abort()
}

/// Properties that fail on purpose while their fix is pending can be set aside by name, comma-separated, in
/// `KEYSMITH_FUZZ_SKIP` (`scripts/fuzz-libfuzzer` passes it through). Unset: every property is checked.
public func skipped(_ name: String) -> Bool {
    skippedProperties.contains(name)
}

private let skippedProperties: Set<String> = Set(
    (ProcessInfo.processInfo.environment["KEYSMITH_FUZZ_SKIP"] ?? "").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
    })

/// Reads an input front to back: a few leading bytes choose modes and numbers, the rest is text.
public struct InputReader {
    private var bytes: UnsafeRawBufferPointer.SubSequence

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes[...]
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard let first = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return first
    }

    /// Everything left, as raw bytes.
    public mutating func rest() -> [UInt8] {
        defer { bytes = bytes[bytes.endIndex...] }
        return Array(bytes)
    }

    /// Everything left as text (invalid UTF-8 repaired, as a server's `String(decoding:)` would).
    public mutating func restText() -> String {
        String(decoding: rest(), as: UTF8.self)
    }

    /// The bytes up to `separator` (dropping it), or all that is left.
    public mutating func upTo(_ separator: UInt8) -> [UInt8] {
        if let index = bytes.firstIndex(of: separator) {
            defer { bytes = bytes[(index + 1)...] }
            return Array(bytes[..<index])
        }
        return rest()
    }
}

/// A private scratch file (mode 0600) in a folder of its own, for parsers that read from a path.
public final class ScratchFile: @unchecked Sendable {
    // Only the fuzzing thread touches it: libFuzzer calls the test function from one thread.
    public let url: URL

    public init(name: String) {
        let folder = FileManager.default.temporaryDirectory.appending(path: "keysmith-fuzz-\(getpid())-\(name)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        url = folder.appending(path: name)
    }

    /// Replaces the file's content with `bytes`.
    public func write(_ bytes: [UInt8]) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = Foundation.write(fd, base + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
