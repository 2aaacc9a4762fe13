import KeysmithCore

/// Rate-limit budgets shared by every node of a shared database.
public protocol SharedRateBudget: Sendable {
    /// Gives back `returning` unspent tokens of an earlier lease, then takes up to `want` tokens from the subject's
    /// bucket for the family (`capacity` tokens, refilled at `capacity / periodMilliseconds`), shared by all nodes;
    /// none granted when it holds less than one.
    func lease(subject: String, family: String, capacity: Int, periodMilliseconds: Int64, want: Int, returning: Int, now: Int64)
        async throws(StoreError) -> RateLease
}

/// What a node got from a shared bucket: `granted` tokens, or none and when one will be there.
public struct RateLease: Sendable, Hashable {
    public var granted: Int
    public var retryAfterMilliseconds: Int64

    public init(granted: Int, retryAfterMilliseconds: Int64) {
        self.granted = granted
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}
