import Crypto
import KeysmithCore
import Foundation

/// The 256-bit master key that seals API-key secrets and derives the passphrase pepper.
///
/// It comes from `KEYSMITH_MASTER_KEY` (64 hex characters or base64 of 32 bytes; the CLI reads the environment)
/// or from a key file created on first start with mode 0600. Purpose-specific keys are derived with HKDF so that
/// the master key itself never encrypts anything.
///
/// ```swift
/// let master = try MasterKey.loadOrCreate(file: dataDir.appending(path: "master.key"))
/// let sealer = master.secretSealer()
/// ```
public struct MasterKey: Sendable {
    private let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(StoreError) {
        guard bytes.count == 32 else {
            throw StoreError.invalidMasterKey("a master key is 32 bytes (64 hex characters or 44 base64 characters)")
        }
        self.bytes = bytes
    }

    /// Parses the text form used by `KEYSMITH_MASTER_KEY` and key files: 64 hex characters, or base64 of 32 bytes.
    public init(text: String) throws(StoreError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let decoded = [UInt8](hex: trimmed) {
            try self.init(bytes: decoded)
        } else if let decoded = Data(base64Encoded: trimmed) {
            try self.init(bytes: Array(decoded))
        } else {
            throw StoreError.invalidMasterKey("a master key is 64 hex characters or base64 of 32 bytes")
        }
    }

    /// A new random master key.
    public static func generate() -> MasterKey {
        MasterKey(unchecked: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads the key file, or creates it (mode 0600 from its first byte, hex text) when it does not exist; when
    /// another process creates it at the same moment, both use that one. Refuses a key file that others can read.
    public static func loadOrCreate(file: URL) throws(StoreError) -> MasterKey {
        if FileManager.default.fileExists(atPath: file.path) { return try load(file: file) }
        let key = generate()
        do throws(StoreError) {
            try PrivateFile.create(file, contents: Data((key.bytes.uppercaseHex + "\n").utf8))
        } catch where error.kind == .duplicate {
            return try load(file: file)
        } catch {
            throw StoreError.invalidMasterKey("cannot create \(file.path): \(error.detail)")
        }
        return key
    }

    private static func load(file: URL) throws(StoreError) -> MasterKey {
        let path = file.path
        let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        guard mode & 0o077 == 0 else {
            throw StoreError.invalidMasterKey("\(path) is readable by other users (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw StoreError.invalidMasterKey("cannot read \(path)")
        }
        return try MasterKey(text: text)
    }

    /// The AES-256-GCM sealer for API-key secrets.
    public func secretSealer() -> SecretSealer {
        SecretSealer(key: derive("keysmith/v1/secret-seal"))
    }

    /// The passphrase verifier keyed with the derived pepper.
    public func passphraseVerifier() -> PassphraseVerifier {
        PassphraseVerifier(pepper: derive("keysmith/v1/passphrase-pepper").withUnsafeBytes { Array($0) })
    }

    /// Peppered HMAC-SHA256 fingerprints of API secrets (the same construction as passphrase verifiers, under its
    /// own derived key): not reversible, but a secret found in the wild can be matched to its key.
    public func secretFingerprints() -> PassphraseVerifier {
        PassphraseVerifier(pepper: derive("keysmith/v1/secret-fingerprint").withUnsafeBytes { Array($0) })
    }

    /// The HMAC key for sensitive values in audit events.
    public func auditHasher() -> AuditHasher {
        AuditHasher(key: derive("keysmith/v1/audit-hmac").withUnsafeBytes { Array($0) })
    }

    /// The Ed25519 key that signs audit checkpoints.
    public func auditSigner() -> AuditCheckpointSigner {
        let seed = derive("keysmith/v1/audit-checkpoint").withUnsafeBytes { Array($0) }
        // 32 bytes is always a valid Ed25519 seed.
        let key = (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) ?? Curve25519.Signing.PrivateKey()
        return AuditCheckpointSigner(privateKey: key)
    }

    /// The key that seals alert sinks' signing secrets.
    public func sinkSealer() -> SecretSealer {
        SecretSealer(key: derive("keysmith/v1/alert-sink-seal"))
    }

    /// The key that seals console users' TOTP secrets.
    public func consoleSealer() -> SecretSealer {
        SecretSealer(key: derive("keysmith/v1/console-totp-seal"))
    }

    /// The HMAC key that signs the console's sign-in form tokens (CSRF before any session exists); the same on
    /// every node, so a form one node served is accepted by another.
    public func consoleFormKey() -> [UInt8] {
        derive("keysmith/v1/console-form").withUnsafeBytes { Array($0) }
    }

    /// The HMAC key that authenticates trading events relayed between nodes (PostgreSQL notifications, which any
    /// role that can connect could send).
    public func relayKey() -> [UInt8] {
        derive("keysmith/v1/trading-relay").withUnsafeBytes { Array($0) }
    }

    private func derive(_ info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: bytes), salt: Array("keysmith".utf8), info: Array(info.utf8),
            outputByteCount: 32)
    }
}

extension MasterKey: CustomStringConvertible {
    public var description: String { "MasterKey(<redacted>)" }
}
