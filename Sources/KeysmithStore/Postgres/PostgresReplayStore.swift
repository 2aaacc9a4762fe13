import Foundation
import KeysmithCore
import PostgresNIO

/// Signed POSTs accepted by any node of a shared database, so that one signed request sent to two nodes is
/// accepted once (each node also keeps its own in-memory guard, which answers repeats to the same node without a
/// round trip). The row holds the request's ``SignedContent`` fingerprint (a SHA-256 of key and prehash), never the
/// signature or the request itself; expired rows are pruned now and then by the inserts themselves.
public struct PostgresReplayStore: SharedReplayRegistry {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func firstUse(_ content: SignedContent, expiresAt: Int64, now: Int64) async throws(StoreError) -> Bool {
        let digest = ByteBuffer(bytes: content.bytes)
        let prune = Int.random(in: 0..<256) == 0
        return try await database.read { connection, logger in
            if prune {
                try await connection.query("DELETE FROM replay_seen WHERE expires_at < \(now)", logger: logger)
            }
            // A row left by an expired use is taken over; a live one means a repeat.
            return try await !connection.query(
                """
                INSERT INTO replay_seen (digest, expires_at) VALUES (\(digest), \(expiresAt))
                ON CONFLICT (digest) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_seen.expires_at < \(now)
                RETURNING expires_at
                """, logger: logger
            ).collect(Int64.self).isEmpty
        }
    }
}
