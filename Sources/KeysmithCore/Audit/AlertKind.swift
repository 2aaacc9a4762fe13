import Foundation

/// The events a sink can subscribe to (`keysmith alerts add ... --events key.created,key.revoked`).
public enum AlertKind: String, Sendable, Hashable, Codable, CaseIterable {
    case keyCreated = "key.created"
    case keyModified = "key.modified"
    case keyRevoked = "key.revoked"
    case keyRotated = "key.rotated"
    case keyExpiring = "key.expiring"
    case keyExpired = "key.expired"
    case permissionDenied = "permission.denied"
    case authFailureBurst = "auth.failure_burst"
    case keyNewIP = "key.new_ip"
    case withdrawalRequested = "withdrawal.requested"
    case auditVerifyFailed = "audit.verify_failed"
    /// The server closed a SWAP position whose margin fell to its maintenance margin at the mark price.
    case positionLiquidated = "position.liquidated"
    /// Sent by `keysmith alerts test` only.
    case test = "test"

    /// Parses `all` or a comma-separated list of kinds; names every unknown one.
    public static func parseList(_ text: String) -> Result<Set<AlertKind>, AlertKindError> {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if parts == ["all"] { return .success(Set(allCases)) }
        var kinds = Set<AlertKind>(), unknown: [String] = []
        for part in parts {
            if let kind = AlertKind(rawValue: part) { kinds.insert(kind) } else { unknown.append(part) }
        }
        guard unknown.isEmpty, !kinds.isEmpty else {
            return .failure(AlertKindError(unknown: unknown))
        }
        kinds.insert(.test)
        return .success(kinds)
    }

    /// One human line for Slack and email, built only from the event's non-secret fields.
    public func summary(of record: AuditRecord) -> String {
        let by = record.actor.isEmpty ? "" : " by \(record.actor)"
        let from = record.clientIP.isEmpty ? "" : " from \(record.clientIP)"
        switch self {
        case .keyCreated: return "API key \(record.target) created\(by)\(from)"
        case .keyModified: return "API key \(record.target) modified\(by)\(from)"
        case .keyRevoked: return "API key \(record.target) revoked\(by)\(from)"
        case .keyRotated: return "API key \(record.details["successor"] ?? record.target) replaces \(record.target) (rotated\(by))"
        case .keyExpiring: return "API key \(record.target) expires soon (\(record.details["expiresAt"] ?? "?"))"
        case .keyExpired: return "API key \(record.target) has expired (\(record.details["reason"] ?? "expired"))"
        case .permissionDenied: return "Permission denied for API key \(record.actor) on \(record.action)\(from)"
        case .authFailureBurst:
            let failures = record.details["failures"] ?? "Many", window = record.details["window"] ?? "a short time"
            return "\(failures) failed authentications in \(window) for \(record.details["subject"] ?? record.actor)"
        case .keyNewIP: return "API key \(record.actor) used from a new IP address\(from)"
        case .withdrawalRequested: return "Withdrawal requested\(by): \(record.details["amount"] ?? "") \(record.details["ccy"] ?? "")"
        case .auditVerifyFailed: return "Audit chain verification failed: \(record.details["problem"] ?? "unknown problem")"
        case .positionLiquidated:
            return "Position \(record.details["posId"] ?? "") of account \(record.account) in \(record.target) liquidated at \(record.details["bkPx"] ?? "")"
        case .test: return "Test alert from Keysmith\(by)"
        }
    }
}

public struct AlertKindError: Error, Sendable, CustomStringConvertible {
    public let unknown: [String]
    public var description: String {
        let known = AlertKind.allCases.filter { $0 != .test }.map(\.rawValue).joined(separator: ", ")
        if unknown.isEmpty { return "no alert events given; use all or some of: \(known)" }
        return "unknown alert event \(unknown.joined(separator: ", ")); use all or some of: \(known)"
    }
}
