import PostgresNIO

/// Rate-limit budgets shared by the nodes of a shared database: one token bucket per (key, endpoint family and
/// limit) row — the same bucket each node runs in memory, refilled continuously at `limit / period` — from which
/// nodes take several tokens at a time (a lease), so that most requests are decided from memory, giving back what
/// an expired lease left unspent with their next one. Tokens only leave the row when granted, so the nodes
/// together never grant more than the bucket would on one node.
public struct PostgresRateBudget: SharedRateBudget {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func lease(
        subject: String, family: String, capacity: Int, periodMilliseconds: Int64, want: Int, returning: Int, now: Int64
    ) async throws(StoreError) -> RateLease {
        let capacity = Double(capacity), rate = capacity / Double(max(1, periodMilliseconds))
        let want = Double(max(1, want)), returning = Double(max(0, returning))
        let expiresAt = now + 2 * periodMilliseconds
        let prune = Int.random(in: 0..<512) == 0
        let row = try await database.read { connection, logger in
            if prune {
                try await connection.query("DELETE FROM rate_bucket WHERE expires_at < \(now)", logger: logger)
            }
            // SET expressions read the row as it was: `refilled` is the old balance plus what the time since added.
            return try await connection.query(
                """
                INSERT INTO rate_bucket AS b (subject, family, tokens, updated_at, last_grant, expires_at)
                VALUES (\(subject), \(family), \(capacity) - LEAST(\(want), \(capacity)), \(now), LEAST(\(want), \(capacity))::INTEGER,
                \(expiresAt))
                ON CONFLICT (subject, family) DO UPDATE SET
                    tokens = LEAST(\(capacity), b.tokens + GREATEST(0, \(now) - b.updated_at) * \(rate) + \(returning))
                        - LEAST(\(want), FLOOR(LEAST(\(capacity), b.tokens + GREATEST(0, \(now) - b.updated_at) * \(rate) + \(returning)))),
                    last_grant = LEAST(
                        \(want), FLOOR(LEAST(\(capacity), b.tokens + GREATEST(0, \(now) - b.updated_at) * \(rate) + \(returning))))::INTEGER,
                    updated_at = GREATEST(b.updated_at, \(now)),
                    expires_at = \(expiresAt)
                RETURNING last_grant, tokens
                """, logger: logger
            ).decode((Int32, Double).self).reduce(into: [(Int32, Double)]()) { $0.append($1) }.first
        }
        guard let (granted, tokens) = row else { return RateLease(granted: 0, retryAfterMilliseconds: 1) }
        guard granted == 0 else { return RateLease(granted: Int(granted), retryAfterMilliseconds: 0) }
        return RateLease(granted: 0, retryAfterMilliseconds: max(1, Int64(((1 - tokens) / rate).rounded(.up))))
    }
}
