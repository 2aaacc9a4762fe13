import Foundation
import KeysmithCore
import PostgresNIO

/// Console users and sessions on PostgreSQL: a session made on one node is valid on every node behind the load
/// balancer, and TOTP steps are single-use across nodes (the conditional update runs under the write lock).
public struct PostgresConsoleStore: ConsoleStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func insertUser(email: String, passwordHash: String, createdAt: Int64, audit: AuditRecord) async throws(StoreError) -> ConsoleUser {
        try await database.write { connection, logger in
            let id = try await connection.query(
                """
                INSERT INTO console_user (email, password_hash, created_at) VALUES (\(email), \(passwordHash), \(createdAt))
                ON CONFLICT (lower(email)) DO NOTHING RETURNING id
                """, logger: logger
            ).collect(Int64.self).first
            guard let id else { throw StoreError.duplicate("a console user \(email) already exists") }
            try await PostgresAuditLog.append([audit], on: connection, logger)
            return ConsoleUser(
                id: id, email: email, passwordHash: passwordHash, totpSecretSealed: nil, totpEnabled: false, failedAttempts: 0,
                lockedUntil: nil, lastTOTPStep: 0, createdAt: createdAt)
        }
    }

    public func user(email: String) async throws(StoreError) -> ConsoleUser? {
        try await users("SELECT * FROM console_user WHERE lower(email) = lower(\(email))").first
    }

    public func user(id: Int64) async throws(StoreError) -> ConsoleUser? {
        try await users("SELECT * FROM console_user WHERE id = \(id)").first
    }

    public func userCount() async throws(StoreError) -> Int {
        try await database.read { connection, logger in
            Int(try await connection.query("SELECT COUNT(*) FROM console_user", logger: logger).collect(Int64.self).first ?? 0)
        }
    }

    public func setSignInState(userID: Int64, failedAttempts: Int, lockedUntil: Int64?, audit: AuditRecord?) async throws(StoreError) {
        try await database.write { connection, logger in
            try await connection.query(
                """
                UPDATE console_user SET failed_attempts = \(Int32(clamping: failedAttempts)), locked_until = \(lockedUntil)
                WHERE id = \(userID)
                """, logger: logger)
            if let audit { try await PostgresAuditLog.append([audit], on: connection, logger) }
        }
    }

    public func setTOTP(userID: Int64, sealed: [UInt8]?, enabled: Bool, audit: AuditRecord) async throws(StoreError) {
        let secret = sealed.map { ByteBuffer(bytes: $0) }
        try await database.write { connection, logger in
            // A new (not yet enabled) secret starts its own sequence of used steps.
            try await connection.query(
                """
                UPDATE console_user SET totp_secret = \(secret), totp_enabled = \(enabled),
                last_totp_step = CASE WHEN \(enabled) THEN last_totp_step ELSE 0 END WHERE id = \(userID)
                """, logger: logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func acceptTOTPStep(userID: Int64, step: Int64) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            try await !connection.query(
                "UPDATE console_user SET last_totp_step = \(step) WHERE id = \(userID) AND last_totp_step < \(step) RETURNING id",
                logger: logger
            ).collect(Int64.self).isEmpty
        }
    }

    public func session(key: String, now: Int64) async throws(StoreError) -> (value: [UInt8], expiresAt: Int64?)? {
        let found = try await database.read { connection, logger in
            try await connection.query(
                "SELECT value, expires_at FROM console_session WHERE key = \(key) AND (expires_at IS NULL OR expires_at > \(now))",
                logger: logger
            ).rows().first.map { row in
                SessionRow(value: Array(try row("value", as: Data.self)), expiresAt: try row("expires_at"))
            }
        }
        return found.map { ($0.value, $0.expiresAt) }
    }

    public func setSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) {
        let bytes = ByteBuffer(bytes: value)
        try await database.read { connection, logger in
            try await connection.query(
                """
                INSERT INTO console_session (key, value, expires_at) VALUES (\(key), \(bytes), \(expiresAt))
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,
                expires_at = COALESCE(EXCLUDED.expires_at, console_session.expires_at)
                """, logger: logger)
        }
    }

    public func createSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) -> Bool {
        let bytes = ByteBuffer(bytes: value)
        return try await database.read { connection, logger in
            try await !connection.query(
                """
                INSERT INTO console_session (key, value, expires_at) VALUES (\(key), \(bytes), \(expiresAt))
                ON CONFLICT (key) DO NOTHING RETURNING key
                """, logger: logger
            ).collect(String.self).isEmpty
        }
    }

    public func removeSession(key: String) async throws(StoreError) {
        try await database.read { connection, logger in
            try await connection.query("DELETE FROM console_session WHERE key = \(key)", logger: logger)
        }
    }

    public func removeExpiredSessions(now: Int64) async throws(StoreError) {
        try await database.read { connection, logger in
            try await connection.query("DELETE FROM console_session WHERE expires_at <= \(now)", logger: logger)
        }
    }

    private struct SessionRow: Sendable {
        let value: [UInt8]
        let expiresAt: Int64?
    }

    private func users(_ query: PostgresQuery) async throws(StoreError) -> [ConsoleUser] {
        try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map { row in
                ConsoleUser(
                    id: try row("id"), email: try row("email"), passwordHash: try row("password_hash"),
                    totpSecretSealed: try row("totp_secret", as: Data?.self).map { Array($0) }, totpEnabled: try row("totp_enabled"),
                    failedAttempts: Int(try row("failed_attempts", as: Int32.self)), lockedUntil: try row("locked_until"),
                    lastTOTPStep: try row("last_totp_step"), createdAt: try row("created_at"))
            }
        }
    }
}
