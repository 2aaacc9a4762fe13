import Foundation
import KeysmithCore

/// One audit event as a JSON line: what `keysmith audit ... --json` prints for SIEM export and what archives hold.
/// It carries both hashes, so an archive can be verified on its own or joined to the chain that follows it.
public struct AuditEventLine: Codable, Sendable, Hashable {
    public var seq: Int64
    /// ISO-8601 UTC, for people and SIEMs.
    public var time: String
    public var timeMs: Int64
    public var requestId: String
    public var actor: String
    public var account: String
    public var action: String
    public var target: String
    public var clientIp: String
    public var result: String
    public var latencyUs: Int64
    public var details: [String: String]
    public var prevHash: String
    public var hash: String

    public init(_ event: AuditEvent) {
        let record = event.record
        seq = event.sequence
        time = OKXTimestamp.string(fromMilliseconds: record.time)
        timeMs = record.time
        requestId = record.requestID
        actor = record.actor
        account = record.account
        action = record.action
        target = record.target
        clientIp = record.clientIP
        result = record.result
        latencyUs = record.latencyMicroseconds
        details = record.details
        prevHash = event.previousHash.lowercaseHex
        hash = event.hash.lowercaseHex
    }

    /// The event this line describes; nil when a hash is not hex.
    public var event: AuditEvent? {
        guard let previous = [UInt8](hex: prevHash), let own = [UInt8](hex: hash) else { return nil }
        let record = AuditRecord(
            time: timeMs, requestID: requestId, actor: actor, account: account, action: action, target: target, clientIP: clientIp,
            result: result, latencyMicroseconds: latencyUs, details: details)
        return AuditEvent(sequence: seq, record: record, previousHash: previous, hash: own)
    }

    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
