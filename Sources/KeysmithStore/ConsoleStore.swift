import KeysmithCore

/// A web-console operator: email, bcrypt password hash, sealed TOTP secret, and sign-in lockout state.
public struct ConsoleUser: Sendable, Equatable {
    public let id: Int64
    public let email: String
    public let passwordHash: String
    /// The TOTP secret sealed with the console sealer (bound to the user id); nil before enrolment starts.
    public let totpSecretSealed: [UInt8]?
    /// True once a code from the authenticator app was confirmed.
    public let totpEnabled: Bool
    public let failedAttempts: Int
    /// Milliseconds; sign-in is refused until then.
    public let lockedUntil: Int64?
    /// The last TOTP time step accepted, so a code is never accepted twice.
    public let lastTOTPStep: Int64
    public let createdAt: Int64

    public init(
        id: Int64, email: String, passwordHash: String, totpSecretSealed: [UInt8]?, totpEnabled: Bool, failedAttempts: Int,
        lockedUntil: Int64?, lastTOTPStep: Int64, createdAt: Int64
    ) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.totpSecretSealed = totpSecretSealed
        self.totpEnabled = totpEnabled
        self.failedAttempts = failedAttempts
        self.lockedUntil = lockedUntil
        self.lastTOTPStep = lastTOTPStep
        self.createdAt = createdAt
    }
}

/// Console users and console sessions. Every change to a user is written with its audit event.
public protocol ConsoleStore: Sendable {
    /// `.duplicate` when the email is taken (case-insensitively).
    func insertUser(email: String, passwordHash: String, createdAt: Int64, audit: AuditRecord) async throws(StoreError) -> ConsoleUser
    func user(email: String) async throws(StoreError) -> ConsoleUser?
    func user(id: Int64) async throws(StoreError) -> ConsoleUser?
    func userCount() async throws(StoreError) -> Int
    /// Records a sign-in outcome: the failure count and lockout, with an audit event when given.
    func setSignInState(userID: Int64, failedAttempts: Int, lockedUntil: Int64?, audit: AuditRecord?) async throws(StoreError)
    /// Stores (or clears) the sealed TOTP secret and whether it is confirmed.
    func setTOTP(userID: Int64, sealed: [UInt8]?, enabled: Bool, audit: AuditRecord) async throws(StoreError)
    /// Accepts TOTP step `step` only if it is later than the last accepted one (atomic); false for a reused code.
    func acceptTOTPStep(userID: Int64, step: Int64) async throws(StoreError) -> Bool

    /// Session key/value storage (what the session cookie names), with expiry in milliseconds.
    func session(key: String, now: Int64) async throws(StoreError) -> (value: [UInt8], expiresAt: Int64?)?
    /// Writes a session; a nil `expiresAt` keeps an existing session's expiry (an update never makes it everlasting).
    func setSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError)
    /// Inserts only when the key is new; false when it exists.
    func createSession(key: String, value: [UInt8], expiresAt: Int64?) async throws(StoreError) -> Bool
    func removeSession(key: String) async throws(StoreError)
    func removeExpiredSessions(now: Int64) async throws(StoreError)
}
