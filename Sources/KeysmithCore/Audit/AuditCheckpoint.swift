import Crypto

/// A signed statement "the chain's event `sequence` has hash `hash`", made periodically by the server. Because the
/// signing key is derived from the master key, someone who can write the database can neither forge a checkpoint
/// nor cut the chain's tail below the last one without `audit verify` noticing.
public struct AuditCheckpoint: Sendable, Hashable {
    public var sequence: Int64
    public var hash: [UInt8]
    /// Unix milliseconds.
    public var time: Int64
    /// Ed25519 signature over ``signedBytes``.
    public var signature: [UInt8]

    public init(sequence: Int64, hash: [UInt8], time: Int64, signature: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
        self.time = time
        self.signature = signature
    }

    /// `keysmith-audit-checkpoint-v1`, sequence and time as big-endian Int64, then the hash.
    public static func signedBytes(sequence: Int64, hash: [UInt8], time: Int64) -> [UInt8] {
        var bytes = Array("keysmith-audit-checkpoint-v1".utf8)
        withUnsafeBytes(of: sequence.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: time.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: hash)
        return bytes
    }

    public func isSigned(by publicKey: Curve25519.Signing.PublicKey) -> Bool {
        publicKey.isValidSignature(signature, for: Self.signedBytes(sequence: sequence, hash: hash, time: time))
    }
}

/// Signs checkpoints with the installation's Ed25519 audit key.
///
/// ```swift
/// let signer = AuditCheckpointSigner(privateKey: key)
/// let checkpoint = try signer.checkpoint(head, at: now)
/// checkpoint.isSigned(by: signer.publicKey)   // true
/// ```
public struct AuditCheckpointSigner: Sendable {
    private let privateKey: Curve25519.Signing.PrivateKey

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    public func checkpoint(_ head: AuditChain.Head, at time: Int64) throws -> AuditCheckpoint {
        let bytes = AuditCheckpoint.signedBytes(sequence: head.sequence, hash: head.hash, time: time)
        return AuditCheckpoint(
            sequence: head.sequence, hash: head.hash, time: time, signature: Array(try privateKey.signature(for: bytes)))
    }
}
