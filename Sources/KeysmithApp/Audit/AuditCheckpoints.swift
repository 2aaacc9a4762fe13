import Foundation
import KeysmithCore
import KeysmithStore
import Logging

/// Verifies and signs the audit chain: ``make()`` checks the events since the last checkpoint and signs the head
/// (stored in the database and appended to a JSON-lines file beside it, which database-only access cannot
/// rewrite); ``verify(archives:)`` walks the whole retained chain for `keysmith audit verify`. A problem found
/// either way is itself audited and raises an `audit.verify_failed` alert.
public struct AuditCheckpoints: Sendable {
    private let store: any AuditStore
    private let signer: AuditCheckpointSigner
    private let file: URL
    private let clock: any WallClock
    private let logger: Logger

    public init(store: any AuditStore, signer: AuditCheckpointSigner, file: URL, clock: any WallClock, logger: Logger) {
        self.store = store
        self.signer = signer
        self.file = file
        self.clock = clock
        self.logger = logger
    }

    /// Signs the current head if the events since the previous checkpoint verify; returns the problem otherwise.
    @discardableResult
    public func make() async -> AuditChainProblem? {
        do {
            let known = try await allCheckpoints()
            let start = try await segmentStart(known)
            let head = try await store.head()
            guard head.sequence > start.sequence else { return nil }
            var verifier = AuditChainVerifier(start: start, checkpoints: known, publicKey: signer.publicKey)
            try await walk(after: start.sequence, into: &verifier)
            if let problem = verifier.finish() {
                await report(problem)
                return problem
            }
            let checkpoint = try signer.checkpoint(head, at: clock.milliseconds)
            try await store.add(checkpoint)
            try append(checkpoint)
            return nil
        } catch {
            logger.backgroundFailure("audit checkpoint failed", error: error)
            return nil
        }
    }

    /// Walks the whole retained chain — after the `archived` events, when given, which then must start at genesis —
    /// against every signed checkpoint. When intact, the head is checkpointed, so a later cut is caught.
    public func verify(archived: [AuditEvent] = []) async throws -> AuditVerification {
        let known = try await allCheckpoints()
        let anchor = try await store.anchor()
        let start = archived.isEmpty ? anchor : AuditChain.Head.genesis
        var verifier = AuditChainVerifier(start: start, checkpoints: known, publicKey: signer.publicKey)
        for event in archived { verifier.check(event) }
        try await walk(after: archived.isEmpty ? anchor.sequence : min(anchor.sequence, archived.last?.sequence ?? 0), into: &verifier)
        let problem = verifier.finish()
        if let problem {
            await report(problem)
        } else {
            let head = try await store.head()
            if head.sequence > 0 { try await sign(head) }
        }
        return AuditVerification(
            problem: problem, events: verifier.eventsChecked, checkpoints: known.filter { $0.sequence > start.sequence }.count,
            start: start.sequence)
    }

    /// Checkpoints from the database and the file; a checkpoint only one of them holds still counts.
    public func allCheckpoints() async throws -> [AuditCheckpoint] {
        var bySequence: [Int64: AuditCheckpoint] = [:]
        for checkpoint in try await store.checkpoints() { bySequence[checkpoint.sequence] = checkpoint }
        for checkpoint in readFile() {
            // The file is the copy the database cannot rewrite: it wins when the two disagree.
            bySequence[checkpoint.sequence] = checkpoint
        }
        return bySequence.values.sorted { $0.sequence < $1.sequence }
    }

    public var publicKeyHex: String { Array(signer.publicKey.rawRepresentation).lowercaseHex }

    /// Signs a checkpoint of `head` unconditionally (the archive anchor, a verified head).
    public func sign(_ head: AuditChain.Head) async throws {
        let checkpoint = try signer.checkpoint(head, at: clock.milliseconds)
        try await store.add(checkpoint)
        try append(checkpoint)
    }

    // MARK: - Helpers

    /// The last signed checkpoint that matches its event, else the anchor.
    private func segmentStart(_ known: [AuditCheckpoint]) async throws -> AuditChain.Head {
        let anchor = try await store.anchor()
        guard let last = known.last(where: { $0.sequence > anchor.sequence && $0.isSigned(by: signer.publicKey) }) else {
            return anchor
        }
        return AuditChain.Head(sequence: last.sequence, hash: last.hash)
    }

    private func walk(after sequence: Int64, into verifier: inout AuditChainVerifier) async throws {
        var cursor = sequence
        while true {
            let page = try await store.events(after: cursor, limit: 10_000)
            guard let last = page.last else { return }
            for event in page { verifier.check(event) }
            cursor = last.sequence
        }
    }

    private func report(_ problem: AuditChainProblem) async {
        logger.critical("audit chain verification failed", metadata: ["problem": "\(problem.message)"])
        let record = AuditRecord(
            time: clock.milliseconds, actor: "system", action: "audit.verify", target: String(problem.sequence),
            result: "failed", details: ["problem": problem.message, "kind": problem.kind.rawValue], alert: .auditVerifyFailed)
        _ = try? await store.append([record])
    }

    private func append(_ checkpoint: AuditCheckpoint) throws {
        let line =
            "{\"seq\":\(checkpoint.sequence),\"hash\":\"\(checkpoint.hash.lowercaseHex)\",\"time\":\(checkpoint.time),"
            + "\"signature\":\"\(checkpoint.signature.lowercaseHex)\"}\n"
        // O_APPEND: the server and a CLI command may both append; each line lands whole at the end.
        let descriptor = open(file.path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw CheckpointFileError(path: file.path) }
        defer { close(descriptor) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw CheckpointFileError(path: file.path) }
    }

    package struct CheckpointFileError: Error, CustomStringConvertible {
        package let path: String
        package var description: String { "cannot append to \(path)" }
    }

    private func readFile() -> [AuditCheckpoint] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let sequence = (object["seq"] as? NSNumber)?.int64Value, let time = (object["time"] as? NSNumber)?.int64Value,
                let hash = (object["hash"] as? String).flatMap({ [UInt8](hex: $0) }),
                let signature = (object["signature"] as? String).flatMap({ [UInt8](hex: $0) })
            else { return nil }
            return AuditCheckpoint(sequence: sequence, hash: hash, time: time, signature: signature)
        }
    }
}

/// The outcome of ``AuditCheckpoints/verify(archived:)``.
public struct AuditVerification: Sendable {
    public let problem: AuditChainProblem?
    public let events: Int
    public let checkpoints: Int
    /// The sequence the verified chain starts after (0: genesis).
    public let start: Int64
}
