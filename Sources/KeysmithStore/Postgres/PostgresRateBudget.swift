import PostgresNIO

/// Rate-limit budgets shared by the nodes of a shared database: each (key, endpoint family, fixed window) row counts
/// the requests granted so far, and nodes take them in leases — several requests at a time — so that most requests
/// are decided from memory. The count never passes the limit, so the nodes together grant at most the limit per
/// window.
public struct PostgresRateBudget: SharedRateBudget {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func lease(
        subject: String, family: String, windowStart: Int64, limit: Int, want: Int, expiresAt: Int64, now: Int64
    ) async throws(StoreError) -> Int {
        let limit = Int32(clamping: limit), want = Int32(clamping: max(1, want))
        let prune = Int.random(in: 0..<512) == 0
        return try await database.read { connection, logger in
            if prune {
                try await connection.query("DELETE FROM rate_window WHERE expires_at < \(now)", logger: logger)
            }
            // SET expressions read the row as it was: last_grant is what this call took.
            let granted = try await connection.query(
                """
                INSERT INTO rate_window (subject, family, window_start, used, last_grant, expires_at)
                VALUES (\(subject), \(family), \(windowStart), LEAST(\(want), \(limit)), LEAST(\(want), \(limit)), \(expiresAt))
                ON CONFLICT (subject, family, window_start) DO UPDATE
                SET used = rate_window.used + LEAST(\(want), \(limit) - rate_window.used),
                    last_grant = LEAST(\(want), \(limit) - rate_window.used)
                WHERE rate_window.used < \(limit)
                RETURNING last_grant
                """, logger: logger
            ).collect(Int32.self).first ?? 0
            return Int(granted)
        }
    }
}
