import KeysmithCore

/// A web-console operator: email, bcrypt password hash, sealed TOTP secret, the lockout state of wrong codes, and
/// the epoch their sessions belong to.
public struct ConsoleUser: Sendable, Equatable {
    public let id: Int64
    public let email: String
    public let passwordHash: String
    /// The TOTP secret sealed with the console sealer (bound to the user id); nil before enrolment starts.
    public let totpSecretSealed: [UInt8]?
    /// True once a code from the authenticator app was confirmed.
    public let totpEnabled: Bool
    /// Wrong TOTP codes in a row (``ConsoleFailureScope/code``); wrong passwords are counted per client network.
    public let failedAttempts: Int
    /// Milliseconds; TOTP codes are refused until then.
    public let lockedUntil: Int64?
    /// The last TOTP time step accepted, so a code is never accepted twice.
    public let lastTOTPStep: Int64
    public let createdAt: Int64
    /// Moves on whenever the user's second factor changes (enabled, disabled): a session made under an older epoch
    /// has ended.
    public let sessionEpoch: Int64

    public init(
        id: Int64, email: String, passwordHash: String, totpSecretSealed: [UInt8]?, totpEnabled: Bool, failedAttempts: Int,
        lockedUntil: Int64?, lastTOTPStep: Int64, createdAt: Int64, sessionEpoch: Int64 = 0
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
        self.sessionEpoch = sessionEpoch
    }
}

/// What a count of sign-in failures is about. Wrong TOTP codes count per user (whoever types them has proven the
/// password); wrong passwords count per user and client network (an IPv4 address or an IPv6 prefix), so that
/// failures from one network never lock the user out from another.
public enum ConsoleFailureScope: Sendable, Hashable {
    case code
    case password(network: String)
}

/// When failures lock: the `maximumFailures`th failure in a row locks for `milliseconds` and restarts the count.
public struct ConsoleLockout: Sendable, Hashable {
    public var maximumFailures: Int
    public var milliseconds: Int64

    public init(maximumFailures: Int, milliseconds: Int64) {
        self.maximumFailures = maximumFailures
        self.milliseconds = milliseconds
    }
}

/// One counted failure: how many in a row it makes (the count the store incremented), and the lock it set.
public struct ConsoleFailureCount: Sendable, Hashable {
    public let failures: Int
    /// Set when this failure reached the maximum and locked.
    public let lockedUntil: Int64?

    public init(failures: Int, lockedUntil: Int64?) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}

/// Console users and console sessions. Every change to a user is written with its audit event.
public protocol ConsoleStore: Sendable {
    /// `.duplicate` when the email is taken (case-insensitively).
    func insertUser(email: String, passwordHash: String, createdAt: Int64, audit: AuditRecord) async throws(StoreError) -> ConsoleUser
    func user(email: String) async throws(StoreError) -> ConsoleUser?
    func user(id: Int64) async throws(StoreError) -> ConsoleUser?
    func userCount() async throws(StoreError) -> Int

    /// Counts one failure atomically (an increment in the store, so parallel failures each count) and decides on the
    /// incremented count: the failure that reaches `lockout.maximumFailures` locks the scope until
    /// `now + lockout.milliseconds` and restarts the count. `audit`, built from the result, is written in the same
    /// transaction. A network's password failures are forgotten once its last one is older than the lockout period
    /// (and no lock is in effect).
    func recordFailure(
        _ scope: ConsoleFailureScope, userID: Int64, now: Int64, lockout: ConsoleLockout,
        audit: @escaping @Sendable (ConsoleFailureCount) -> AuditRecord
    ) async throws(StoreError) -> ConsoleFailureCount
    /// Until when the scope is locked at `now`; nil when it is not.
    func lockedUntil(_ scope: ConsoleFailureScope, userID: Int64, now: Int64) async throws(StoreError) -> Int64?
    /// Forgets the scope's failures and lock (after a success).
    func clearFailures(_ scope: ConsoleFailureScope, userID: Int64) async throws(StoreError)

    /// Stores a new, unconfirmed TOTP secret, only while the user has no confirmed one (checked by the update itself,
    /// so that a session that is behind can never replace an enrolled authenticator); false when 2FA is on.
    func beginTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Bool
    /// Confirms the pending secret `sealed`, only if it is still the stored one and not yet confirmed, and moves the
    /// user's session epoch on; returns the new epoch, nil when nothing changed.
    func enableTOTP(userID: Int64, sealed: [UInt8], audit: AuditRecord) async throws(StoreError) -> Int64?
    /// Clears a confirmed TOTP secret and moves the user's session epoch on; returns the new epoch, nil when 2FA was
    /// not on.
    func disableTOTP(userID: Int64, audit: AuditRecord) async throws(StoreError) -> Int64?
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
    /// Stored session rows, expired ones included (what a flood of requests could grow).
    func sessionCount() async throws(StoreError) -> Int
}
