import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import KeysmithApp
import KeysmithCore
import KeysmithStore
import NIOPosix
import Synchronization

/// A console failure shown to the operator next to the field that caused it. Never carries a secret.
public struct ConsoleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }
}

/// Console operators: bcrypt passwords, TOTP second factor (RFC 6238, 30 s steps, ±1 step, each code accepted
/// once), lockout after repeated failures. Every change is audited with the console user as actor.
///
/// Failures are counted by the store, atomically, and the lock is decided on the count it returns, so parallel
/// guesses each count. Wrong passwords lock per user and client network (``ConsoleFailureScope/password(network:)``):
/// nobody can lock an operator out from elsewhere, and every refusal (unknown email, wrong password, locked) is the
/// same answer after the same bcrypt work. Wrong TOTP codes lock the account itself: whoever types them has the
/// password.
public struct ConsoleAuth: Sendable {
    public struct Policy: Sendable {
        public var maximumFailures = 5
        public var lockoutMilliseconds: Int64 = 15 * 60_000
        public var bcryptCost: UInt8 = 12

        public init() {}

        var lockout: ConsoleLockout { ConsoleLockout(maximumFailures: maximumFailures, milliseconds: lockoutMilliseconds) }
    }

    /// A password accepted: whose, under which session epoch, and what comes next.
    public struct SignIn: Sendable, Equatable {
        public enum Next: Sendable, Equatable {
            /// A TOTP code.
            case code
            /// TOTP enrolment, before anything else.
            case enrolment
        }

        public let userID: Int64
        /// The user's session epoch when the password was checked: the session made now belongs to it.
        public let sessionEpoch: Int64
        public let next: Next
    }

    let store: any ConsoleStore
    let sealer: SecretSealer
    let clock: any WallClock
    public var policy: Policy
    private let verifications = VerificationCounter()

    /// The console operators of `installation`.
    public init(_ installation: Installation, policy: Policy = Policy()) {
        self.init(store: installation.consoleStore, sealer: installation.consoleSealer, clock: installation.clock, policy: policy)
    }

    public init(store: any ConsoleStore, sealer: SecretSealer, clock: any WallClock, policy: Policy = Policy()) {
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.policy = policy
    }

    /// How many bcrypt verifications sign-in has run (each costs tens to hundreds of milliseconds of CPU).
    public var passwordVerifications: Int { verifications.count }

    // MARK: Users

    public func createUser(email: String, password: String, origin: AuditOrigin) async throws -> ConsoleUser {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard Self.isEmail(email) else { throw ConsoleError("email", "Enter an email address such as admin@example.com.") }
        guard password.count >= 12 else { throw ConsoleError("password", "Use a password of at least 12 characters.") }
        let cost = policy.bcryptCost
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        let now = clock.milliseconds
        let audit = origin.with(action: "console.user.create").record(at: now, account: "", target: email)
        do {
            return try await store.insertUser(email: email, passwordHash: hash, createdAt: now, audit: audit)
        } catch {
            guard error.kind == .duplicate else { throw error }
            throw ConsoleError("email", "A console user \(email) already exists.")
        }
    }

    /// On an installation without console users, creates `admin@keysmith.local` with a random password and returns
    /// both (to be printed once). Nil when a user exists.
    public func createFirstAdminIfNeeded(origin: AuditOrigin) async throws -> (email: String, password: String)? {
        guard try await store.userCount() == 0 else { return nil }
        let password = KeyMaterial.randomBytes(15).map { String(format: "%02x", $0) }.joined()
        let user = try await createUser(email: "admin@keysmith.local", password: password, origin: origin)
        return (user.email, password)
    }

    public func user(id: Int64) async throws -> ConsoleUser? {
        try await store.user(id: id)
    }

    // MARK: Sign-in

    /// The one answer to every refused password step: unknown email, wrong password, or a lock on this network.
    var signInRefused: ConsoleError {
        ConsoleError(
            "password",
            "The email or password is wrong. After \(policy.maximumFailures) failed attempts in a row, sign-in from your network "
                + "pauses for \(policy.lockoutMilliseconds / 60_000) minutes.")
    }

    /// Checks email and password for a client on `network` (see ``ConsoleSignInThrottle/Policy/network(of:)``).
    /// Unknown emails, wrong passwords and a user locked on this network get the same answer after the same bcrypt
    /// work; the `maximumFailures`th failure in a row from a network locks the user there for `lockoutMilliseconds`.
    public func signIn(email: String, password: String, network: String, origin: AuditOrigin) async throws -> SignIn {
        let now = clock.milliseconds
        guard let user = try await store.user(email: email.trimmingCharacters(in: .whitespaces)) else {
            // Same cost as a real check, so timing does not tell which emails exist.
            _ = try await verifyPassword(password, hash: Self.dummyHash)
            throw signInRefused
        }
        let scope = ConsoleFailureScope.password(network: network)
        if try await store.lockedUntil(scope, userID: user.id, now: now) != nil {
            // Refused whatever the password, after the same work as a wrong one.
            _ = try await verifyPassword(password, hash: user.passwordHash)
            throw signInRefused
        }
        guard try await verifyPassword(password, hash: user.passwordHash) else {
            try await recordFailure(scope, of: user, origin: origin, now: now)
            throw signInRefused
        }
        try await store.clearFailures(scope, userID: user.id)
        return SignIn(userID: user.id, sessionEpoch: user.sessionEpoch, next: user.totpEnabled ? .code : .enrolment)
    }

    /// Counts a failed password or code in the store and audits it with the count the store returned (the one that
    /// reaches the maximum locks).
    @discardableResult
    func recordFailure(_ scope: ConsoleFailureScope, of user: ConsoleUser, origin: AuditOrigin, now: Int64) async throws -> ConsoleFailureCount {
        let email = user.email
        let factor: String
        switch scope {
        case .code: factor = "code"
        case .password: factor = "password"
        }
        return try await store.recordFailure(scope, userID: user.id, now: now, lockout: policy.lockout) { count in
            let locks = count.lockedUntil != nil
            return origin.with(action: locks ? "console.user.locked" : "console.signin.failed").record(
                at: now, account: "", target: email, details: ["failures": String(count.failures), "factor": factor],
                alert: locks ? .permissionDenied : nil)
        }
    }

    /// bcrypt on NIO's pool for blocking work, never on the cooperative threads every request shares (a wave of
    /// sign-ins must not stall the API).
    private func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        verifications.increment()
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    // MARK: TOTP

    /// The answer when enrolment is asked of a user whose two-factor authentication is already on.
    public static let alreadyEnrolled = ConsoleError(
        "totp", "Two-factor authentication is already on for this account. Sign in again with a code from your authenticator app.")

    /// Starts (or restarts) enrolment: a new secret, sealed in the store, not yet enabled. Returns the otpauth URI
    /// and the base32 secret for manual entry. Only for a user without 2FA, as the store finds them when the secret
    /// is written (``alreadyEnrolled`` otherwise): a session opened before an enrolment can never replace it.
    public func beginEnrolment(userID: Int64, origin: AuditOrigin) async throws -> (uri: String, secret: String) {
        guard let user = try await store.user(id: userID) else { throw ConsoleError("user", "Unknown user.") }
        guard !user.totpEnabled else { throw Self.alreadyEnrolled }
        let secret = Self.randomSecret()
        let sealed = try sealer.seal(secret, for: "console-user-\(user.id)")
        let audit = origin.with(action: "console.totp.begin").record(at: clock.milliseconds, account: "", target: user.email)
        guard try await store.beginTOTP(userID: user.id, sealed: sealed, audit: audit) else { throw Self.alreadyEnrolled }
        let uri = TOTP(secret: secret).createAuthenticatorURL(label: "Keysmith:\(user.email)", issuer: "Keysmith")
        let base32 = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return (uri, base32)
    }

    /// Confirms enrolment with a code from the app and enables TOTP, if the secret the code was checked against is
    /// still the pending one. Returns the user's new session epoch: every other session of the user has ended.
    public func confirmEnrolment(userID: Int64, code: String, origin: AuditOrigin) async throws -> Int64 {
        guard let user = try await store.user(id: userID) else { throw ConsoleError("code", "Start the set-up again.") }
        guard !user.totpEnabled else { throw Self.alreadyEnrolled }
        guard let sealed = user.totpSecretSealed else { throw ConsoleError("code", "Start the set-up again.") }
        try await check(code, user: user, sealed: sealed, origin: origin)
        let audit = origin.with(action: "console.totp.enable").record(at: clock.milliseconds, account: "", target: user.email)
        guard let epoch = try await store.enableTOTP(userID: user.id, sealed: sealed, audit: audit) else {
            if try await store.user(id: userID)?.totpEnabled == true { throw Self.alreadyEnrolled }
            throw ConsoleError("code", "The set-up was started again elsewhere.")
        }
        return epoch
    }

    /// Verifies a code of an enrolled user (second factor at sign-in, or a fresh code for a sensitive action).
    public func verify(code: String, userID: Int64, origin: AuditOrigin) async throws {
        guard let user = try await store.user(id: userID), user.totpEnabled, let sealed = user.totpSecretSealed else {
            throw ConsoleError("code", "Two-factor authentication is not set up.")
        }
        if let until = user.lockedUntil, until > clock.milliseconds {
            throw ConsoleError("code", "Too many failed attempts: this account is locked until \(Self.time(until)).")
        }
        try await check(code, user: user, sealed: sealed, origin: origin)
        if user.failedAttempts > 0 { try await store.clearFailures(.code, userID: user.id) }
    }

    /// Turns two-factor authentication off after a fresh code; the user must enrol again before anything else.
    /// Returns the user's new session epoch: every other session of the user has ended.
    public func disableTOTP(userID: Int64, code: String, origin: AuditOrigin) async throws -> Int64 {
        try await verify(code: code, userID: userID, origin: origin)
        guard let user = try await store.user(id: userID) else { throw ConsoleError("user", "Unknown user.") }
        let audit = origin.with(action: "console.totp.disable").record(
            at: clock.milliseconds, account: "", target: user.email, alert: .permissionDenied)
        guard let epoch = try await store.disableTOTP(userID: user.id, audit: audit) else {
            throw ConsoleError("code", "Two-factor authentication is not set up.")
        }
        return epoch
    }

    private func check(_ code: String, user: ConsoleUser, sealed: [UInt8], origin: AuditOrigin) async throws {
        let digits = code.filter { !$0.isWhitespace }
        let secret = try sealer.open(sealed, for: "console-user-\(user.id)")
        let totp = TOTP(secret: secret)
        let now = clock.milliseconds
        let found = Self.matchingStep(digits, totp: totp, now: now)
        guard let matched = found else {
            try await recordFailure(.code, of: user, origin: origin, now: now)
            throw ConsoleError("code", "That code is not valid. Enter the current 6-digit code from your authenticator app.")
        }
        guard try await store.acceptTOTPStep(userID: user.id, step: matched) else {
            throw ConsoleError("code", "That code was already used. Wait for the next one.")
        }
    }

    // MARK: Helpers

    /// The 30-second step (now, one before or one after) whose code is `digits`, if any.
    static func matchingStep(_ digits: String, totp: TOTP, now: Int64) -> Int64? {
        guard digits.count == 6, let value = Int(digits) else { return nil }
        let step = now / 30_000
        return [step, step - 1, step + 1].first { candidate in
            totp.compute(date: Date(timeIntervalSince1970: Double(candidate) * 30)) == value
        }
    }

    static let dummyHash = Bcrypt.hash("keysmith-timing-equaliser", cost: 12)

    static func randomSecret() -> String {
        // 32 symbols, so each random byte's low 5 bits pick one without bias: 20 characters, 100 bits.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String(KeyMaterial.randomBytes(20).map { alphabet[Int($0 & 31)] })
    }

    static func isEmail(_ text: String) -> Bool {
        guard text.count <= 254, text.allSatisfy({ (c: Character) -> Bool in c.isASCII && !c.isWhitespace && c != "<" && c != ">" }) else {
            return false
        }
        let parts: [Substring] = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let domain: Substring = parts[1]
        let dot: Character = "."
        return domain.contains(dot) && domain.first != dot && domain.last != dot
    }

    static func time(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

/// Counts bcrypt verifications (an observable measure of the CPU sign-in spends).
private final class VerificationCounter: Sendable {
    private let value = Atomic<Int>(0)

    var count: Int { value.load(ordering: .relaxed) }

    func increment() { value.add(1, ordering: .relaxed) }
}
