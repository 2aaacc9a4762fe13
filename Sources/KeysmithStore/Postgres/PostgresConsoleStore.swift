import Foundation
import KeysmithCore
import PostgresNIO

/// Console users and sessions on PostgreSQL: a session made on one node is valid on every node behind the load
/// balancer, TOTP steps are single-use across nodes and failures are counted by increments in the database (each
/// under the write lock), so parallel attempts on any number of nodes each count.
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

    public func recordFailure(
        _ scope: ConsoleFailureScope, userID: Int64, now: Int64, lockout: ConsoleLockout,
        audit: @escaping @Sendable (ConsoleFailureCount) -> AuditRecord
    ) async throws(StoreError) -> ConsoleFailureCount {
        try await database.write { connection, logger in
            let failures: Int32
            switch scope {
            case .code:
                failures = try await connection.query(
                    "UPDATE console_user SET failed_attempts = failed_attempts + 1 WHERE id = \(userID) RETURNING failed_attempts",
                    logger: logger
                ).collect(Int32.self).first ?? 0
            case .password(let network):
                let stale = now - lockout.milliseconds
                try await connection.query(
                    """
                    DELETE FROM console_signin_failure WHERE updated_at <= \(stale) AND (locked_until IS NULL OR locked_until <= \(now))
                    """, logger: logger)
                failures = try await connection.query(
                    """
                    INSERT INTO console_signin_failure (user_id, network, failures, updated_at) VALUES (\(userID), \(network), 1, \(now))
                    ON CONFLICT (user_id, network) DO UPDATE SET failures = console_signin_failure.failures + 1,
                    updated_at = EXCLUDED.updated_at RETURNING failures
                    """, logger: logger
                ).collect(Int32.self).first ?? 0
            }
            var lockedUntil: Int64?
            if failures >= lockout.maximumFailures {
                let until = now + lockout.milliseconds
                lockedUntil = until
                switch scope {
                case .code:
                    try await connection.query(
                        "UPDATE console_user SET failed_attempts = 0, locked_until = \(until) WHERE id = \(userID)", logger: logger)
                case .password(let network):
                    try await connection.query(
                        """
                        UPDATE console_signin_failure SET failures = 0, locked_until = \(until)
                        WHERE user_id = \(userID) AND network = \(network)
                        """, logger: logger)
                }
            }
            let count = ConsoleFailureCount(failures: Int(failures), lockedUntil: lockedUntil)
            try await PostgresAuditLog.append([audit(count)], on: connection, logger)
            return count
        }
    }

    public func lockedUntil(_ scope: ConsoleFailureScope, userID: Int64, now: Int64) async throws(StoreError) -> Int64? {
        try await database.read { connection, logger in
            switch scope {
            case .code:
                return try await connection.query(
                    "SELECT locked_until FROM console_user WHERE id = \(userID) AND locked_until > \(now)", logger: logger
                ).collect(Int64.self).first
            case .password(let network):
                return try await connection.query(
                    """
                    SELECT locked_until FROM console_signin_failure
                    WHERE user_id = \(userID) AND network = \(network) AND locked_until > \(now)
                    """, logger: logger
                ).collect(Int64.self).first
            }
        }
    }

    public func clearFailures(_ scope: ConsoleFailureScope, userID: Int64) async throws(StoreError) {
        try await database.write { connection, logger in
            switch scope {
            case .code:
                try await connection.query(
                    """
                    UPDATE console_user SET failed_attempts = 0, locked_until = NULL
                    WHERE id = \(userID) AND (failed_attempts > 0 OR locked_until IS NOT NULL)
                    """, logger: logger)
            case .password(let network):
                try await connection.query(
                    "DELETE FROM console_signin_failure WHERE user_id = \(userID) AND network = \(network)", logger: logger)
            }
        }
    }

    public func beginTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Bool {
        let secret = ByteBuffer(bytes: sealed)
        return try await database.write { connection, logger in
            // A new secret starts its own sequence of used steps.
            let updated = try await connection.query(
                """
                UPDATE console_user SET totp_secret = \(secret), last_totp_step = 0
                WHERE id = \(userID) AND NOT totp_enabled RETURNING id
                """, logger: logger
            ).collect(Int64.self)
            guard !updated.isEmpty else { return false }
            try await PostgresAuditLog.append([audit], on: connection, logger)
            return true
        }
    }

    public func enableTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Int64? {
        let secret = ByteBuffer(bytes: sealed)
        return try await database.write { connection, logger in
            let epoch = try await connection.query(
                """
                UPDATE console_user SET totp_enabled = TRUE, session_epoch = session_epoch + 1
                WHERE id = \(userID) AND NOT totp_enabled AND totp_secret = \(secret) RETURNING session_epoch
                """, logger: logger
            ).collect(Int64.self).first
            if epoch != nil { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return epoch
        }
    }

    public func disableTOTP(userID: Int64, audit: AuditRecord) async throws(StoreError) -> Int64? {
        try await database.write { connection, logger in
            let epoch = try await connection.query(
                """
                UPDATE console_user SET totp_secret = NULL, totp_enabled = FALSE, last_totp_step = 0, session_epoch = session_epoch + 1
                WHERE id = \(userID) AND totp_enabled RETURNING session_epoch
                """, logger: logger
            ).collect(Int64.self).first
            if epoch != nil { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return epoch
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

    public func sessionCount() async throws(StoreError) -> Int {
        try await database.read { connection, logger in
            Int(try await connection.query("SELECT COUNT(*) FROM console_session", logger: logger).collect(Int64.self).first ?? 0)
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
                    lastTOTPStep: try row("last_totp_step"), createdAt: try row("created_at"), sessionEpoch: try row("session_epoch"))
            }
        }
    }
}
