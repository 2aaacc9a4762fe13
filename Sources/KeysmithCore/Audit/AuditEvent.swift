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
        Array(SHA256.hash(data: canonicalForm(of: record, after: previousHash)))
    }

    public static func canonicalForm(of record: AuditRecord, after previousHash: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + record.details.count * 48)
        bytes.append(contentsOf: Array("keysmith-audit-v1".utf8))
        bytes.append(contentsOf: previousHash)
        append(UInt64(bitPattern: record.time), to: &bytes)
        append(UInt64(bitPattern: record.latencyMicroseconds), to: &bytes)
        for field in [record.requestID, record.actor, record.account, record.action, record.target, record.clientIP, record.result] {
            append(field, to: &bytes)
        }
        append(UInt32(record.details.count), to: &bytes)
        for key in record.details.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            append(key, to: &bytes)
            append(record.details[key] ?? "", to: &bytes)
        }
        return bytes
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        append(UInt32(utf8.count), to: &bytes)
        bytes.append(contentsOf: utf8)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
