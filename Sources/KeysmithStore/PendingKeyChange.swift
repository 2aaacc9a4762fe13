import KeysmithCore

/// A widening change to a key (withdraw added, or IPs widened) waiting out the cool-down.
public struct PendingKeyChange: Sendable, Hashable {
    public var apiKey: String
    /// The permissions and allowlist the key gets when the change takes effect.
    public var permissions: Permissions
    public var allowlist: IPAllowlist
    public var requestedAt: Int64
    public var effectiveAt: Int64

    public init(apiKey: String, permissions: Permissions, allowlist: IPAllowlist, requestedAt: Int64, effectiveAt: Int64) {
        self.apiKey = apiKey
        self.permissions = permissions
        self.allowlist = allowlist
        self.requestedAt = requestedAt
        self.effectiveAt = effectiveAt
    }
}

extension PendingKeyChange {
    /// A `pending_key_change` row as read by either backend.
    static func decode(
        apiKey: String, permissions: String, allowlist: String, requestedAt: Int64, effectiveAt: Int64
    ) throws(StoreError) -> PendingKeyChange {
        do {
            return PendingKeyChange(
                apiKey: apiKey, permissions: try Permissions(okx: permissions), allowlist: try IPAllowlist(okx: allowlist),
                requestedAt: requestedAt, effectiveAt: effectiveAt)
        } catch {
            throw StoreError.database("unreadable pending change for \(apiKey)")
        }
    }
}
