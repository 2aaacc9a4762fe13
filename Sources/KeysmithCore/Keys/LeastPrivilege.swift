/// The least-privilege review of a key (`keysmith apikey audit`): what makes it riskier than it needs to be, each
/// with the one-line fix.
///
/// ```swift
/// for finding in LeastPrivilege.findings(for: key, now: now) { print(finding.kind, finding.fix) }
/// ```
public enum LeastPrivilege {
    public static let unusedAfter: Int64 = 30 * 86_400_000
    public static let neverUsedAfter: Int64 = 7 * 86_400_000
    public static let expiringWithin: Int64 = 7 * 86_400_000

    public struct Finding: Sendable, Hashable {
        public let kind: Kind
        public let fix: String
    }

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case withdrawPermission = "withdraw_permission"
        case unboundTradeKey = "unbound_trade_key"
        case unused = "unused_30_days"
        case neverUsed = "never_used"
        case expiringSoon = "expiring_soon"
    }

    /// Findings for an active key at `now`, most serious first; none for revoked or expired keys.
    public static func findings(for key: APIKey, now: Int64) -> [Finding] {
        guard key.status(at: now) == .active else { return [] }
        let id = key.apiKey
        var findings: [Finding] = []
        if key.permissions.contains(.withdraw) {
            findings.append(Finding(
                kind: .withdrawPermission,
                fix: "unless this key must move funds out, drop withdraw: keysmith apikey modify \(id) --perm \(without(.withdraw, key))"))
        }
        if key.allowlist.isEmpty && (key.permissions.contains(.trade) || key.permissions.contains(.withdraw)) {
            findings.append(Finding(
                kind: .unboundTradeKey,
                fix: "bind it to the addresses that use it: keysmith apikey modify \(id) --ip ADDR"))
        }
        if let lastUsed = key.lastUsedAt, now - lastUsed >= unusedAfter {
            findings.append(Finding(kind: .unused, fix: "revoke it if nothing uses it any more: keysmith apikey revoke \(id)"))
        } else if key.lastUsedAt == nil, now - key.createdAt >= neverUsedAfter {
            findings.append(Finding(kind: .neverUsed, fix: "revoke it if it was never needed: keysmith apikey revoke \(id)"))
        }
        if let expiry = key.expiry(), expiry.at - now <= expiringWithin {
            let fix = expiry.reason == .inactivity
                ? "it expires when unused for 14 days: use it, or bind it to IPs: keysmith apikey modify \(id) --ip ADDR"
                : "rotate it before it expires: keysmith apikey rotate \(id)"
            findings.append(Finding(kind: .expiringSoon, fix: fix))
        }
        return findings
    }

    private static func without(_ permission: Permissions, _ key: APIKey) -> String {
        key.permissions.subtracting(permission).union(.readOnly).okxString
    }
}
