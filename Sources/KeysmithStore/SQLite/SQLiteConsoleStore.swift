import Foundation
import GRDB
import KeysmithCore

/// Console users, their sign-in failures and sessions in the installation's SQLite database. Writes are serialised
/// by SQLite's single writer, so each increment and conditional update sees the previous one.
public struct SQLiteConsoleStore: ConsoleStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insertUser(email: String, passwordHash: String, createdAt: Int64, audit: AuditRecord) async throws(StoreError) -> ConsoleUser {
        try await database.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM console_user WHERE email = ? COLLATE NOCASE", arguments: [email]) != nil {
                throw StoreError.duplicate("a console user \(email) already exists")
            }
            try db.execute(
                sql: "INSERT INTO console_user (email, password_hash, created_at) VALUES (?, ?, ?)",
                arguments: [email, passwordHash, createdAt])
            let id = db.lastInsertedRowID
            try AuditLog.append([audit], in: SQLTransaction(db))
            return ConsoleUser(
                id: id, email: email, passwordHash: passwordHash, totpSecretSealed: nil, totpEnabled: false, failedAttempts: 0,
                lockedUntil: nil, lastTOTPStep: 0, createdAt: createdAt)
        }
    }

    public func user(email: String) async throws(StoreError) -> ConsoleUser? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_user WHERE email = ? COLLATE NOCASE", arguments: [email]).map(Self.user)
        }
    }

    public func user(id: Int64) async throws(StoreError) -> ConsoleUser? {
        try await database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM console_user WHERE id = ?", arguments: [id]).map(Self.user) }
    }

    public func userCount() async throws(StoreError) -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM console_user") ?? 0 }
    }

    public func recordFailure(
        _ scope: ConsoleFailureScope, userID: Int64, now: Int64, lockout: ConsoleLockout,
        audit: @escaping @Sendable (ConsoleFailureCount) -> AuditRecord
    ) async throws(StoreError) -> ConsoleFailureCount {
        try await database.write { db in
            let failures: Int
            switch scope {
            case .code:
                failures = try Int.fetchOne(
                    db, sql: "UPDATE console_user SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts",
                    arguments: [userID]) ?? 0
            case .password(let network):
                try db.execute(
                    sql: "DELETE FROM console_signin_failure WHERE updated_at <= ? AND (locked_until IS NULL OR locked_until <= ?)",
                    arguments: [now - lockout.milliseconds, now])
                failures = try Int.fetchOne(
                    db,
                    sql: """
                        INSERT INTO console_signin_failure (user_id, network, failures, updated_at) VALUES (?, ?, 1, ?)
                        ON CONFLICT (user_id, network) DO UPDATE SET failures = console_signin_failure.failures + 1, updated_at = excluded.updated_at
                        RETURNING failures
                        """,
                    arguments: [userID, network, now]) ?? 0
            }
            var lockedUntil: Int64?
            if failures >= lockout.maximumFailures {
                let until = now + lockout.milliseconds
                lockedUntil = until
                switch scope {
                case .code:
                    try db.execute(sql: "UPDATE console_user SET failed_attempts = 0, locked_until = ? WHERE id = ?", arguments: [until, userID])
                case .password(let network):
                    try db.execute(
                        sql: "UPDATE console_signin_failure SET failures = 0, locked_until = ? WHERE user_id = ? AND network = ?",
                        arguments: [until, userID, network])
                }
            }
            let count = ConsoleFailureCount(failures: failures, lockedUntil: lockedUntil)
            try AuditLog.append([audit(count)], in: SQLTransaction(db))
            return count
        }
    }

    public func lockedUntil(_ scope: ConsoleFailureScope, userID: Int64, now: Int64) async throws(StoreError) -> Int64? {
        try await database.read { db in
            switch scope {
            case .code:
                return try Int64.fetchOne(db, sql: "SELECT locked_until FROM console_user WHERE id = ? AND locked_until > ?", arguments: [userID, now])
            case .password(let network):
                return try Int64.fetchOne(
                    db, sql: "SELECT locked_until FROM console_signin_failure WHERE user_id = ? AND network = ? AND locked_until > ?",
                    arguments: [userID, network, now])
            }
        }
    }

    public func clearFailures(_ scope: ConsoleFailureScope, userID: Int64) async throws(StoreError) {
        try await database.write { db in
            switch scope {
            case .code:
                try db.execute(
                    sql: "UPDATE console_user SET failed_attempts = 0, locked_until = NULL WHERE id = ? AND (failed_attempts > 0 OR locked_until IS NOT NULL)",
                    arguments: [userID])
            case .password(let network):
                try db.execute(sql: "DELETE FROM console_signin_failure WHERE user_id = ? AND network = ?", arguments: [userID, network])
            }
        }
    }

    public func beginTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            // A new secret starts its own sequence of used steps.
            try db.execute(
                sql: "UPDATE console_user SET totp_secret = ?, last_totp_step = 0 WHERE id = ? AND totp_enabled = 0",
                arguments: [Data(sealed), userID])
            guard db.changesCount == 1 else { return false }
            try AuditLog.append([audit], in: SQLTransaction(db))
            return true
        }
    }

    public func enableTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Int64? {
        try await database.write { db in
            let epoch = try Int64.fetchOne(
                db,
                sql: """
                    UPDATE console_user SET totp_enabled = 1, session_epoch = session_epoch + 1
                    WHERE id = ? AND totp_enabled = 0 AND totp_secret = ? RETURNING session_epoch
                    """,
                arguments: [userID, Data(sealed)])
            if epoch != nil { try AuditLog.append([audit], in: SQLTransaction(db)) }
            return epoch
        }
    }

    public func disableTOTP(userID: Int64, audit: AuditRecord) async throws(StoreError) -> Int64? {
        try await database.write { db in
            let epoch = try Int64.fetchOne(
                db,
                sql: """
                    UPDATE console_user SET totp_secret = NULL, totp_enabled = 0, last_totp_step = 0, session_epoch = session_epoch + 1
                    WHERE id = ? AND totp_enabled = 1 RETURNING session_epoch
                    """,
                arguments: [userID])
            if epoch != nil { try AuditLog.append([audit], in: SQLTransaction(db)) }
            return epoch
        }
    }

    public func acceptTOTPStep(userID: Int64, step: Int64) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE console_user SET last_totp_step = ? WHERE id = ? AND last_totp_step < ?", arguments: [step, userID, step])
            return db.changesCount == 1
        }
    }

    public func session(key: String, now: Int64) async throws(StoreError) -> (value: [UInt8], expiresAt: Int64?)? {
        let found: SessionRow? = try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT value, expires_at FROM console_session WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
                arguments: [key, now]
            ).map { row in
                let value: Data = row["value"]
                return SessionRow(value: [UInt8](value), expiresAt: row["expires_at"])
            }
        }
        return found.map { ($0.value, $0.expiresAt) }
    }

    public func setSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO console_session (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = COALESCE(excluded.expires_at, console_session.expires_at)",
                arguments: [key, Data(value), expiresAt])
        }
    }

    public func createSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO console_session (key, value, expires_at) VALUES (?, ?, ?)", arguments: [key, Data(value), expiresAt])
            return db.changesCount == 1
        }
    }

    public func removeSession(key: String) async throws(StoreError) {
        try await database.write { db in try db.execute(sql: "DELETE FROM console_session WHERE key = ?", arguments: [key]) }
    }

    public func removeExpiredSessions(now: Int64) async throws(StoreError) {
        try await database.write { db in try db.execute(sql: "DELETE FROM console_session WHERE expires_at <= ?", arguments: [now]) }
    }

    public func sessionCount() async throws(StoreError) -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM console_session") ?? 0 }
    }

    private struct SessionRow: Sendable {
        let value: [UInt8]
        let expiresAt: Int64?
    }

    private static func user(_ row: Row) -> ConsoleUser {
        let sealed: Data? = row["totp_secret"]
        return ConsoleUser(
            id: row["id"], email: row["email"], passwordHash: row["password_hash"], totpSecretSealed: sealed.map { [UInt8]($0) },
            totpEnabled: row["totp_enabled"], failedAttempts: row["failed_attempts"], lockedUntil: row["locked_until"],
            lastTOTPStep: row["last_totp_step"], createdAt: row["created_at"], sessionEpoch: row["session_epoch"])
    }
}
