import Foundation
import KeysmithCore

/// Console users, their sign-in failures and sessions, on either database. Failure counts are incremented in write
/// transactions (serialised on both databases, across every PostgreSQL node), so parallel attempts each count and
/// the one that reaches the maximum locks once.
public struct SQLConsoleStore: ConsoleStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func insertUser(email: String, passwordHash: String, createdAt: Int64, audit: AuditRecord) async throws(StoreError) -> ConsoleUser {
        try await database.write { tx throws(StoreError) in
            // Emails are unique whatever their case (a unique index on both databases backs this check).
            if try tx.exists("SELECT 1 FROM console_user WHERE lower(email) = lower(\(email))") {
                throw StoreError.duplicate(.consoleUser, "a console user \(email) already exists")
            }
            let id = try SQLLedgerStore.insert(
                "INSERT INTO console_user (email, password_hash, created_at) VALUES (\(email), \(passwordHash), \(createdAt)) RETURNING id",
                in: tx)
            try AuditLog.append([audit], in: tx)
            return ConsoleUser(
                id: id, email: email, passwordHash: passwordHash, totpSecretSealed: nil, totpEnabled: false, failedAttempts: 0,
                lockedUntil: nil, lastTOTPStep: 0, createdAt: createdAt)
        }
    }

    public func user(email: String) async throws(StoreError) -> ConsoleUser? {
        try await database.fetchOne("SELECT * FROM console_user WHERE lower(email) = lower(\(email))", Self.user)
    }

    public func user(id: Int64) async throws(StoreError) -> ConsoleUser? {
        try await database.fetchOne("SELECT * FROM console_user WHERE id = \(id)", Self.user)
    }

    public func userCount() async throws(StoreError) -> Int {
        try await database.value("SELECT COUNT(*) FROM console_user", as: Int.self) ?? 0
    }

    public func recordFailure(
        _ scope: ConsoleFailureScope, userID: Int64, now: Int64, lockout: ConsoleLockout,
        audit: @escaping @Sendable (ConsoleFailureCount) -> AuditRecord
    ) async throws(StoreError) -> ConsoleFailureCount {
        try await database.write { tx throws(StoreError) in
            let failures: Int
            switch scope {
            case .code:
                failures =
                    try tx.value(
                        "UPDATE console_user SET failed_attempts = failed_attempts + 1 WHERE id = \(userID) RETURNING failed_attempts",
                        as: Int.self) ?? 0
            case .password(let network):
                let stale = now - lockout.milliseconds
                try tx.execute(
                    "DELETE FROM console_signin_failure WHERE updated_at <= \(stale) AND (locked_until IS NULL OR locked_until <= \(now))")
                failures =
                    try tx.value(
                        """
                        INSERT INTO console_signin_failure (user_id, network, failures, updated_at) VALUES (\(userID), \(network), 1, \(now))
                        ON CONFLICT (user_id, network) DO UPDATE SET failures = console_signin_failure.failures + 1,
                        updated_at = excluded.updated_at RETURNING failures
                        """, as: Int.self) ?? 0
            }
            var lockedUntil: Int64?
            if failures >= lockout.maximumFailures {
                let until = now + lockout.milliseconds
                lockedUntil = until
                switch scope {
                case .code:
                    try tx.execute("UPDATE console_user SET failed_attempts = 0, locked_until = \(until) WHERE id = \(userID)")
                case .password(let network):
                    try tx.execute(
                        """
                        UPDATE console_signin_failure SET failures = 0, locked_until = \(until)
                        WHERE user_id = \(userID) AND network = \(network)
                        """)
                }
            }
            let count = ConsoleFailureCount(failures: failures, lockedUntil: lockedUntil)
            try AuditLog.append([audit(count)], in: tx)
            return count
        }
    }

    public func lockedUntil(_ scope: ConsoleFailureScope, userID: Int64, now: Int64) async throws(StoreError) -> Int64? {
        switch scope {
        case .code:
            return try await database.value(
                "SELECT locked_until FROM console_user WHERE id = \(userID) AND locked_until > \(now)", as: Int64.self)
        case .password(let network):
            return try await database.value(
                """
                SELECT locked_until FROM console_signin_failure
                WHERE user_id = \(userID) AND network = \(network) AND locked_until > \(now)
                """, as: Int64.self)
        }
    }

    public func clearFailures(_ scope: ConsoleFailureScope, userID: Int64) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            switch scope {
            case .code:
                try tx.execute(
                    """
                    UPDATE console_user SET failed_attempts = 0, locked_until = NULL
                    WHERE id = \(userID) AND (failed_attempts > 0 OR locked_until IS NOT NULL)
                    """)
            case .password(let network):
                try tx.execute("DELETE FROM console_signin_failure WHERE user_id = \(userID) AND network = \(network)")
            }
        }
    }

    public func beginTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            // A new secret starts its own sequence of used steps.
            let begun = try tx.execute(
                "UPDATE console_user SET totp_secret = \(sealed), last_totp_step = 0 WHERE id = \(userID) AND totp_enabled = \(false)")
            guard begun == 1 else { return false }
            try AuditLog.append([audit], in: tx)
            return true
        }
    }

    public func enableTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Int64? {
        try await database.write { tx throws(StoreError) in
            let epoch = try tx.value(
                """
                UPDATE console_user SET totp_enabled = \(true), session_epoch = session_epoch + 1
                WHERE id = \(userID) AND totp_enabled = \(false) AND totp_secret = \(sealed) RETURNING session_epoch
                """, as: Int64.self)
            if epoch != nil { try AuditLog.append([audit], in: tx) }
            return epoch
        }
    }

    public func disableTOTP(userID: Int64, audit: AuditRecord) async throws(StoreError) -> Int64? {
        try await database.write { tx throws(StoreError) in
            let epoch = try tx.value(
                """
                UPDATE console_user SET totp_secret = NULL, totp_enabled = \(false), last_totp_step = 0, session_epoch = session_epoch + 1
                WHERE id = \(userID) AND totp_enabled = \(true) RETURNING session_epoch
                """, as: Int64.self)
            if epoch != nil { try AuditLog.append([audit], in: tx) }
            return epoch
        }
    }

    public func acceptTOTPStep(userID: Int64, step: Int64) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            try tx.execute("UPDATE console_user SET last_totp_step = \(step) WHERE id = \(userID) AND last_totp_step < \(step)") == 1
        }
    }

    // MARK: - Sessions (no place in the write order: no audit event)

    public func session(key: String, now: Int64) async throws(StoreError) -> (value: [UInt8], expiresAt: Int64?)? {
        let found = try await database.fetchOne(
            "SELECT value, expires_at FROM console_session WHERE key = \(key) AND (expires_at IS NULL OR expires_at > \(now))"
        ) { row throws(StoreError) in
            SessionRow(value: Array(try row("value", as: Data.self)), expiresAt: try row("expires_at"))
        }
        return found.map { ($0.value, $0.expiresAt) }
    }

    public func setSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) {
        try await database.execute(
            """
            INSERT INTO console_session (key, value, expires_at) VALUES (\(key), \(value), \(expiresAt))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = COALESCE(excluded.expires_at, console_session.expires_at)
            """)
    }

    public func createSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) -> Bool {
        try await database.execute(
            "INSERT INTO console_session (key, value, expires_at) VALUES (\(key), \(value), \(expiresAt)) ON CONFLICT (key) DO NOTHING") == 1
    }

    public func removeSession(key: String) async throws(StoreError) {
        try await database.execute("DELETE FROM console_session WHERE key = \(key)")
    }

    public func removeExpiredSessions(now: Int64) async throws(StoreError) {
        try await database.execute("DELETE FROM console_session WHERE expires_at <= \(now)")
    }

    public func sessionCount() async throws(StoreError) -> Int {
        try await database.value("SELECT COUNT(*) FROM console_session", as: Int.self) ?? 0
    }

    private struct SessionRow: Sendable {
        let value: [UInt8]
        let expiresAt: Int64?
    }

    private static func user(_ row: SQLRow) throws(StoreError) -> ConsoleUser {
        ConsoleUser(
            id: try row("id"), email: try row("email"), passwordHash: try row("password_hash"),
            totpSecretSealed: try row("totp_secret", as: Data?.self).map { Array($0) }, totpEnabled: try row("totp_enabled"),
            failedAttempts: try row("failed_attempts"), lockedUntil: try row("locked_until"), lastTOTPStep: try row("last_totp_step"),
            createdAt: try row("created_at"), sessionEpoch: try row("session_epoch"))
    }
}
