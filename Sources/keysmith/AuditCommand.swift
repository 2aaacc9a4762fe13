import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, search, verify and archive the tamper-evident audit log.",
        subcommands: [Tail.self, Search.self, Verify.self, Hash.self, Archive.self, PublicKey.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the newest events; -f keeps following.")

        @OptionGroup var options: GlobalOptions
        @Option(name: .short, help: "How many events to show first.") var n = 20
        @Flag(name: .short, help: "Follow: print new events as they are written.") var f = false

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let store = installation.auditStore
                let newest = try await store.search(AuditQuery(limit: max(0, n)))
                try AuditPrinter.print(newest, json: options.json)
                guard f else { return }
                var cursor = try await store.head().sequence
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(500))
                    let events = try await store.events(after: cursor, limit: 1_000)
                    try AuditPrinter.print(events, json: options.json, header: false)
                    cursor = events.last?.sequence ?? cursor
                }
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find events by key, account, action, IP, result or time.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "The API key id (or cli:USER) that acted.") var key: String?
        @Option(help: "Account uid, sub-account name, or master.") var account: String?
        @Option(help: "Text the action contains (e.g. apikey, /api/v5/account/balance).") var action: String?
        @Option(help: "Client IP address.") var ip: String?
        @Option(help: "Result code (0 for success, 50113, ...).") var result: String?
        @Option(help: "From this time: a date, an OKX timestamp, or a duration ago (30m, 12h, 7d).") var since: String?
        @Option(help: "Before this time (same forms).") var until: String?
        @Option(help: "At most this many events (newest).") var limit = 100

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let now = installation.clock.milliseconds
                let query = AuditQuery(
                    actor: key, account: try await account.asyncMap { try await Self.accountUID($0, installation) }, action: action,
                    clientIP: ip, result: result, since: try since.map { try Durations.moment($0, now: now) },
                    until: try until.map { try Durations.moment($0, now: now) }, limit: max(1, limit))
                try AuditPrinter.print(try await installation.auditStore.search(query), json: options.json)
            }
        }

        static func accountUID(_ text: String, _ installation: Installation) async throws -> String {
            if text == "master" { return try await installation.accounts.master().uid }
            if let sub = try? await installation.accounts.subAccount(named: text) { return sub.uid }
            return text
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain and signed checkpoints; name the first edited, deleted or reordered event.",
            discussion: "Exit status 1 when the chain is broken (an audit.verify_failed alert is raised too).")

        @OptionGroup var options: GlobalOptions
        @Option(name: .customLong("archive"), help: "Archived JSON-lines files, oldest first, to verify with the chain.")
        var archives: [String] = []

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .error)) { installation in
                let archived = try archives.flatMap { try AuditArchiver.read($0) }
                let outcome = try await installation.checkpoints.verify(archived: archived)
                if options.json {
                    try Output.json(
                        VerifyOutput(
                            ok: outcome.problem == nil, events: outcome.events, checkpoints: outcome.checkpoints,
                            problem: outcome.problem?.message, kind: outcome.problem?.kind.rawValue, seq: outcome.problem?.sequence))
                } else if let problem = outcome.problem {
                    Output.line("FAILED: \(problem.message)")
                } else {
                    Output.line(
                        "ok: \(outcome.events) events after #\(outcome.start) verified against \(outcome.checkpoints) signed checkpoints")
                }
                if outcome.problem != nil { throw ExitCode(1) }
            }
        }

        struct VerifyOutput: Encodable {
            let ok: Bool
            let events: Int
            let checkpoints: Int
            let problem: String?
            let kind: String?
            let seq: Int64?
        }
    }

    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "HMAC a value as the audit log stores it (e.g. a passphrase) and count the events that hold it.",
            discussion: "Pass - to read the value from stdin, which keeps it out of shell history.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The value, or - for stdin.") var value: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let text = value == "-" ? (readLine(strippingNewline: true) ?? "") : value
                let hash = installation.auditHasher.hash(text)
                let events = try await installation.auditStore.search(AuditQuery(detailValue: hash, limit: 1_000))
                if options.json {
                    try Output.json(["hash": hash, "events": events.map { String($0.sequence) }.joined(separator: ",")])
                    return
                }
                Output.line(hash)
                let found = events.map { "#\($0.sequence)" }.joined(separator: ", ")
                Output.line(events.isEmpty ? "not found in the audit log" : "found in events \(found)")
            }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move events older than a cut-off to a JSON-lines file; the chain stays verifiable (audit verify --archive).")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Archive events before this time: a date, an OKX timestamp, or an age such as 90d.") var before: String
        @Option(help: "Folder for the archive file (default: DATA_DIR/audit-archive).") var out: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let cutoff = try Durations.moment(before, now: installation.clock.milliseconds)
                let folder = out.map { URL(filePath: $0) }
                guard let archived = try await installation.auditArchiver(folder: folder).archive(before: cutoff) else {
                    Output.line("nothing to archive: no event before \(OKXTimestamp.string(fromMilliseconds: cutoff))")
                    return
                }
                if options.json {
                    try Output.json(["file": archived.file, "events": String(archived.events), "throughSeq": String(archived.last)])
                } else {
                    Output.line("archived \(archived.events) events (#\(archived.first)–#\(archived.last)) to \(archived.file)")
                }
            }
        }
    }

    struct PublicKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "public-key", abstract: "Print the Ed25519 public key that verifies audit checkpoints (hex).")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                Output.line(installation.checkpoints.publicKeyHex)
            }
        }
    }
}

/// Prints audit events as a table or as JSON lines.
enum AuditPrinter {
    static func print(_ events: [AuditEvent], json: Bool, header: Bool = true) throws {
        if json {
            for event in events { Output.line(try AuditEventLine(event).jsonLine()) }
            return
        }
        guard !events.isEmpty else {
            if header { Output.line("no events") }
            return
        }
        let rows = events.map { event in
            let record = event.record
            return [
                "#\(event.sequence)", String(OKXTimestamp.string(fromMilliseconds: record.time).prefix(23)), record.actor, record.action,
                record.target.isEmpty ? "-" : record.target, record.clientIP.isEmpty ? "-" : record.clientIP, record.result,
                "\(record.latencyMicroseconds)µs",
            ]
        }
        Output.table(header ? ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "IP", "RESULT", "LATENCY"] : [], rows)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
