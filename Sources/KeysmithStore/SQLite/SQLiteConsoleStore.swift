import Foundation
import GRDB
import KeysmithCore

/// Console users and sessions in the installation's SQLite database.
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
            try SQLiteAuditLog.append([audit], in: db)
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

    public func setSignInState(userID: Int64, failedAttempts: Int, lockedUntil: Int64?, audit: AuditRecord?) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE console_user SET failed_attempts = ?, locked_until = ? WHERE id = ?", arguments: [failedAttempts, lockedUntil, userID])
            if let audit { try SQLiteAuditLog.append([audit], in: db) }
        }
    }

    public func setTOTP(userID: Int64, sealed: [UInt8]?, enabled: Bool, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                // A new (not yet enabled) secret starts its own sequence of used steps.
                sql: """
                    UPDATE console_user SET totp_secret = ?, totp_enabled = ?,
                    last_totp_step = CASE WHEN ? THEN last_totp_step ELSE 0 END WHERE id = ?
                    """,
                arguments: [sealed.map { Data($0) }, enabled, enabled, userID])
            try SQLiteAuditLog.append([audit], in: db)
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

    private struct SessionRow: Sendable {
        let value: [UInt8]
        let expiresAt: Int64?
    }

    private static func user(_ row: Row) -> ConsoleUser {
        let sealed: Data? = row["totp_secret"]
        return ConsoleUser(
            id: row["id"], email: row["email"], passwordHash: row["password_hash"], totpSecretSealed: sealed.map { [UInt8]($0) },
            totpEnabled: row["totp_enabled"], failedAttempts: row["failed_attempts"], lockedUntil: row["locked_until"],
            lastTOTPStep: row["last_totp_step"], createdAt: row["created_at"])
    }
}
