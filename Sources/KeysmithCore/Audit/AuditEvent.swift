import Crypto

/// An audit record once it has joined the chain: its sequence number, the hash of the event before it, and the
/// SHA-256 of its own canonical form (which covers that previous hash, so each event commits to all before it).
public struct AuditEvent: Sendable, Hashable {
    public var sequence: Int64
    public var record: AuditRecord
    public var previousHash: [UInt8]
    public var hash: [UInt8]

    public init(sequence: Int64, record: AuditRecord, previousHash: [UInt8], hash: [UInt8]) {
        self.sequence = sequence
        self.record = record
        self.previousHash = previousHash
        self.hash = hash
    }

    /// True when ``hash`` is the hash of this event's fields as they are now.
    public var isIntact: Bool { AuditChain.hash(of: record, after: previousHash) == hash }
}

/// The hash chain: each event's hash is SHA-256 over a canonical byte form of its fields and the previous hash.
///
/// Canonical form (version 1): the ASCII tag `keysmith-audit-v1`, the previous hash (32 bytes), time and latency
/// as big-endian Int64, then request id, actor, account, action, target, client IP and result, each as a
/// big-endian UInt32 byte length followed by its UTF-8 bytes, then the number of details and each detail's key and
/// value the same way, keys in byte order. The sequence number is not hashed: order is what the links prove, and
/// a renumbered or missing event breaks a link.
///
/// ```swift
/// var head = AuditChain.Head.genesis
/// let event = head.append(record)        // event.previousHash == genesis hash
/// ```
public enum AuditChain {
    /// The previous hash of the first event ever: 32 zero bytes.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The last event of a chain: where the next one links.
    public struct Head: Sendable, Hashable {
        public var sequence: Int64
        public var hash: [UInt8]

        public init(sequence: Int64, hash: [UInt8]) {
            self.sequence = sequence
            self.hash = hash
        }

        public static let genesis = Head(sequence: 0, hash: AuditChain.genesisHash)

        /// Links `record` after this head and moves the head to it.
        public mutating func append(_ record: AuditRecord) -> AuditEvent {
            let event = AuditEvent(
                sequence: sequence + 1, record: record, previousHash: hash, hash: AuditChain.hash(of: record, after: hash))
            self = Head(sequence: event.sequence, hash: event.hash)
            return event
        }
    }

    public static func hash(of record: AuditRecord, after previousHash: [UInt8]) -> [UInt8] {
        // One buffer and one hash call: the writer hashes every event.
        let digest = SHA256.hash(data: canonicalForm(of: record, after: previousHash))
        return digest.withUnsafeBytes { Array($0) }
    }

    public static func canonicalForm(of record: AuditRecord, after previousHash: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            80 + record.requestID.utf8.count + record.actor.utf8.count + record.account.utf8.count + record.action.utf8.count
                + record.target.utf8.count + record.clientIP.utf8.count + record.result.utf8.count + record.details.count * 64)
        write(record, after: previousHash) { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        return bytes
    }

    /// Emits the canonical form in pieces.
    private static func write(
        _ record: AuditRecord, after previousHash: [UInt8], to sink: (UnsafeRawBufferPointer) -> Void
    ) {
        var tag = "keysmith-audit-v1"
        tag.withUTF8 { sink(UnsafeRawBufferPointer($0)) }
        previousHash.withUnsafeBytes(sink)
        integer(UInt64(bitPattern: record.time), sink)
        integer(UInt64(bitPattern: record.latencyMicroseconds), sink)
        text(record.requestID, sink)
        text(record.actor, sink)
        text(record.account, sink)
        text(record.action, sink)
        text(record.target, sink)
        text(record.clientIP, sink)
        text(record.result, sink)
        integer(UInt32(record.details.count), sink)
        guard !record.details.isEmpty else { return }
        for key in record.details.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            text(key, sink)
            text(record.details[key] ?? "", sink)
        }
    }

    private static func text(_ value: String, _ sink: (UnsafeRawBufferPointer) -> Void) {
        var value = value
        value.withUTF8 { utf8 in
            integer(UInt32(utf8.count), sink)
            sink(UnsafeRawBufferPointer(utf8))
        }
    }

    private static func integer<T: FixedWidthInteger>(_ value: T, _ sink: (UnsafeRawBufferPointer) -> Void) {
        withUnsafeBytes(of: value.bigEndian, sink)
    }
}
