import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find scannable Keysmith secrets (ks_…) in files; with --revoke, revoke the keys they belong to.",
        discussion: "Matches are confirmed by checksum, so there are no false positives. Secrets are never printed. Exits 1 when any is found.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Files or folders to scan (folders recursively).") var paths: [String]
    @Flag(help: "Revoke every key whose secret was found.") var revoke = false

    func run() async throws {
        try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
            var findings: [ScanFindingJSON] = []
            for file in Self.files(under: paths) {
                guard let data = FileManager.default.contents(atPath: file), data.count <= 50_000_000, !data.contains(0),
                    let text = String(data: data, encoding: .utf8)
                else { continue }
                for (secret, line) in ScannableSecret.find(in: text) {
                    let key = try await installation.keys.key(bySecret: secret)
                    var status = key == nil ? "unknown" : (key?.revokedAt == nil ? "active" : "revoked")
                    if revoke, let key, key.revokedAt == nil {
                        try await installation.keys.revoke(apiKey: key.apiKey, reason: "secret found by keysmith scan in \(file):\(line)", origin: .cli("scan.revoke"))
                        status = "revoked now"
                    }
                    findings.append(ScanFindingJSON(file: file, line: line, secret: ScannableSecret.masked(secret), apiKey: key?.apiKey ?? "", status: status))
                }
            }
            if options.json {
                try Output.json(findings)
            } else if findings.isEmpty {
                Output.line("No Keysmith secrets found.")
            } else {
                Output.table(["FILE", "LINE", "SECRET", "API KEY", "STATUS"], findings.map { [$0.file, String($0.line), $0.secret, $0.apiKey, $0.status] })
            }
            if !findings.isEmpty { throw ExitCode(1) }
        }
    }

    static func files(under paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if !isDirectory.boolValue {
                files.append(path)
                continue
            }
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(relative)
                var nested: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &nested), !nested.boolValue { files.append(full) }
            }
        }
        return files.sorted()
    }
}

struct ScanFindingJSON: Encodable {
    let file: String
    let line: Int
    /// Masked: only the first characters.
    let secret: String
    /// "" when the secret is not one of this installation's.
    let apiKey: String
    let status: String
}
