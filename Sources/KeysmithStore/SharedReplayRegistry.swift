import KeysmithCore

/// Replay protection shared by every node of a shared database.
public protocol SharedReplayRegistry: Sendable {
    /// Records a signed request by what it signed; false when the same signed content was recorded and has not expired.
    func firstUse(_ content: SignedContent, expiresAt: Int64, now: Int64) async throws(StoreError) -> Bool
}
