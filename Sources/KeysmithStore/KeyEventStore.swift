import KeysmithCore

/// Lifecycle events about keys that someone should hear of (expiring soon, expired); each recorded event also
/// joins the audit chain (and raises its alert) in the same transaction.
public protocol KeyEventStore: Sendable {
    /// Records the event unless one of the same kind about the same key and expiry exists; true when recorded.
    func record(_ event: KeyEvent, audit: AuditRecord) async throws(StoreError) -> Bool
    /// Events, oldest first; of one key when `apiKey` is given.
    func keyEvents(apiKey: String?) async throws(StoreError) -> [KeyEvent]
}

public struct KeyEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case expiringIn3Days = "key_expiring_3d"
        case expiringIn1Day = "key_expiring_1d"
        case expired = "key_expired"
    }

    public var apiKey: String
    public var kind: Kind
    /// The expiry this event is about (an inactivity expiry moves when the key is used).
    public var expiresAt: Int64
    public var reason: ExpiryReason
    /// When it was recorded.
    public var at: Int64

    public init(apiKey: String, kind: Kind, expiresAt: Int64, reason: ExpiryReason, at: Int64) {
        self.apiKey = apiKey
        self.kind = kind
        self.expiresAt = expiresAt
        self.reason = reason
        self.at = at
    }
}
