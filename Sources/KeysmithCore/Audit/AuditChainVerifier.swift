import Crypto

/// What `keysmith audit verify` found: the first problem in chain order, naming the event.
public struct AuditChainProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case edited, deleted, reordered, truncated, rewritten, forgedCheckpoint = "forged-checkpoint"
    }

    public var kind: Kind
    /// The event the problem is at (for `truncated`, the checkpointed sequence that is missing).
    public var sequence: Int64
    public var message: String

    public var description: String { message }
}

/// Walks a chain in sequence order and reports the first edited, deleted or reordered event; with signed
/// checkpoints it also catches a cut-off tail and a chain rewritten from some point on.
///
/// ```swift
/// var verifier = AuditChainVerifier(start: anchor, checkpoints: checkpoints, publicKey: key)
/// for event in events { verifier.check(event) }
/// if let problem = verifier.finish() { print(problem) }
/// ```
public struct AuditChainVerifier: Sendable {
    private var head: AuditChain.Head
    private let checkpoints: [AuditCheckpoint]
    private let publicKey: Curve25519.Signing.PublicKey
    private var checkpointHashes: [Int64: [UInt8]] = [:]
    private let checkpointSequences: Set<Int64>
    /// First 8 bytes of each event's hash → its sequence, to tell a reordering from a deletion.
    private var sequenceOfHash: [UInt64: Int64] = [:]
    private var problem: AuditChainProblem?
    private let start: AuditChain.Head
    private let allCheckpoints: [AuditCheckpoint]
    /// A broken link waiting for the rest of the chain to be seen before it is diagnosed.
    private var brokenLink: AuditEvent?
    public private(set) var eventsChecked = 0

    /// - Parameter start: where the chain begins: genesis, or the last event archived away.
    public init(start: AuditChain.Head, checkpoints: [AuditCheckpoint], publicKey: Curve25519.Signing.PublicKey) {
        self.head = start
        self.start = start
        self.allCheckpoints = checkpoints
        self.checkpoints = checkpoints.filter { $0.sequence > start.sequence }.sorted { $0.sequence < $1.sequence }
        self.checkpointSequences = Set(self.checkpoints.map(\.sequence))
        self.publicKey = publicKey
    }

    public mutating func check(_ event: AuditEvent) {
        eventsChecked += 1
        sequenceOfHash[Self.prefix(event.hash)] = event.sequence
        if checkpointSequences.contains(event.sequence) { checkpointHashes[event.sequence] = event.hash }
        guard problem == nil, brokenLink == nil else { return }
        if !event.isIntact {
            problem = AuditChainProblem(
                kind: .edited, sequence: event.sequence,
                message: "event \(event.sequence) was edited: its fields no longer match its hash")
        } else if event.sequence > head.sequence + 1 {
            problem = Self.deleted(from: head.sequence + 1, to: event.sequence - 1)
        } else if event.previousHash != head.hash {
            brokenLink = event
        }
        head = AuditChain.Head(sequence: event.sequence, hash: event.hash)
    }

    /// The first problem, or nil when the chain is whole and matches every signed checkpoint.
    public mutating func finish() -> AuditChainProblem? {
        if let problem { return problem }
        if start.sequence > 0,
            !allCheckpoints.contains(where: { $0.sequence == start.sequence && $0.hash == start.hash && $0.isSigned(by: publicKey) })
        {
            return AuditChainProblem(
                kind: .deleted, sequence: 1,
                message: "events 1–\(start.sequence) are gone without a signed archive checkpoint: the archive anchor was forged")
        }
        if let broken = brokenLink { return diagnose(broken) }
        for checkpoint in checkpoints {
            guard checkpoint.isSigned(by: publicKey) else {
                return AuditChainProblem(
                    kind: .forgedCheckpoint, sequence: checkpoint.sequence,
                    message: "the checkpoint at event \(checkpoint.sequence) has an invalid signature")
            }
            guard let hash = checkpointHashes[checkpoint.sequence] else {
                return AuditChainProblem(
                    kind: .truncated, sequence: checkpoint.sequence,
                    message: "the chain was truncated: it ends at event \(head.sequence) "
                        + "but a signed checkpoint covers event \(checkpoint.sequence)")
            }
            guard hash == checkpoint.hash else {
                return AuditChainProblem(
                    kind: .rewritten, sequence: checkpoint.sequence,
                    message: "events up to \(checkpoint.sequence) were rewritten: "
                        + "event \(checkpoint.sequence) does not match its signed checkpoint")
            }
        }
        return nil
    }

    private func diagnose(_ event: AuditEvent) -> AuditChainProblem {
        if let other = sequenceOfHash[Self.prefix(event.previousHash)] {
            return AuditChainProblem(
                kind: .reordered, sequence: event.sequence,
                message: "event \(event.sequence) is out of order: it was written after event \(other)")
        }
        return AuditChainProblem(
            kind: .deleted, sequence: event.sequence,
            message: "the link into event \(event.sequence) is broken: "
                + "an event before it was deleted, or event \(event.sequence - 1) was replaced")
    }

    private static func deleted(from first: Int64, to last: Int64) -> AuditChainProblem {
        AuditChainProblem(
            kind: .deleted, sequence: first,
            message: first == last ? "event \(first) was deleted" : "events \(first)–\(last) were deleted")
    }

    private static func prefix(_ hash: [UInt8]) -> UInt64 {
        hash.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
