import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Moves audit events older than a cut-off out of the database into a JSON-lines file (mode 0600 from its first byte,
/// in a 0700 folder), keeping the chain verifiable: the last archived event is checkpointed (signed) before anything
/// is deleted, and `keysmith audit verify --archive FILE` joins the file to the retained chain. `keysmith audit
/// archive` runs it once; `keysmith serve --audit-retention 90d` runs it hourly.
///
/// ```swift
/// let archived = try await AuditArchiver(installation: installation).archive(before: now - 90 * 86_400_000)
/// ```
public struct AuditArchiver: Sendable {
    private let store: any AuditStore
    private let checkpoints: AuditCheckpoints
    private let folder: URL
    private let clock: any WallClock

    public init(store: any AuditStore, checkpoints: AuditCheckpoints, folder: URL, clock: any WallClock) {
        self.store = store
        self.checkpoints = checkpoints
        self.folder = folder
        self.clock = clock
    }

    public struct Archived: Sendable {
        public let file: String
        public let events: Int
        public let first: Int64
        public let last: Int64
    }

    /// Archives every event before `cutoff` (Unix ms); nil when there is none.
    public func archive(before cutoff: Int64) async throws -> Archived? {
        let anchor = try await store.anchor()
        guard let last = try await lastEvent(before: cutoff, after: anchor.sequence) else { return nil }
        try PrivateFile.makeFolder(folder)
        let path = folder.appending(path: "audit-\(anchor.sequence + 1)-\(last.sequence).jsonl").path
        // Signed before anything is deleted: the shortened chain still proves where it starts.
        try await checkpoints.sign(AuditChain.Head(sequence: last.sequence, hash: last.hash))
        let count = try await store.archive(through: last.sequence, to: path, at: clock.milliseconds) { events in
            let text = try events.map { try AuditEventLine($0).jsonLine() }.joined(separator: "\n") + "\n"
            // Replacing: a run that crashed before its delete committed left this range's file, now rewritten.
            do { try PrivateFile.replace(URL(filePath: path), contents: Data(text.utf8)) } catch { throw ArchiveError(path: path) }
        }
        return Archived(file: path, events: count, first: anchor.sequence + 1, last: last.sequence)
    }

    /// Reads an archive file back, in chain order.
    public static func read(_ path: String) throws -> [AuditEvent] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ArchiveError(path: path) }
        return try text.split(separator: "\n").map { line in
            guard let parsed = try? JSONDecoder().decode(AuditEventLine.self, from: Data(line.utf8)), let event = parsed.event else {
                throw ArchiveError(path: path)
            }
            return event
        }
    }

    /// Events are appended in time order: the last one before the cut-off ends the archived range.
    private func lastEvent(before cutoff: Int64, after sequence: Int64) async throws -> AuditEvent? {
        var last: AuditEvent?
        var cursor = sequence
        while true {
            let page = try await store.events(after: cursor, limit: 10_000)
            guard let end = page.last else { return last }
            for event in page {
                if event.record.time >= cutoff { return last }
                last = event
            }
            cursor = end.sequence
        }
    }

    package struct ArchiveError: Error, CustomStringConvertible {
        package let path: String
        package var description: String { "cannot read or write the audit archive \(path)" }
    }
}
