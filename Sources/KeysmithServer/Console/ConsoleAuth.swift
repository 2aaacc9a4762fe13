import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import KeysmithCore
import KeysmithStore

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
public struct ConsoleAuth: Sendable {
    public struct Policy: Sendable {
        public var maximumFailures = 5
        public var lockoutMilliseconds: Int64 = 15 * 60_000
        public var bcryptCost: UInt8 = 12

        public init() {}
    }

    public enum SignIn: Sendable, Equatable {
        /// Password accepted; a TOTP code is needed next.
        case needsCode(userID: Int64)
        /// Password accepted; the user must enrol TOTP before anything else.
        case needsEnrolment(userID: Int64)
    }

    let store: any ConsoleStore
    let sealer: SecretSealer
    let clock: any WallClock
    public var policy: Policy

    public init(store: any ConsoleStore, sealer: SecretSealer, clock: any WallClock, policy: Policy = Policy()) {
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.policy = policy
    }

    // MARK: Users

    public func createUser(email: String, password: String, origin: AuditOrigin) async throws -> ConsoleUser {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard Self.isEmail(email) else { throw ConsoleError("email", "Enter an email address such as admin@example.com.") }
        guard password.count >= 12 else { throw ConsoleError("password", "Use a password of at least 12 characters.") }
        let hash = Bcrypt.hash(password, cost: policy.bcryptCost)
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

    /// Checks email and password. Unknown emails and wrong passwords get the same answer; a locked account is
    /// refused without checking the password; the `maximumFailures`th failure locks it for `lockoutMilliseconds`.
    public func signIn(email: String, password: String, origin: AuditOrigin) async throws -> SignIn {
        let now = clock.milliseconds
        let generic = ConsoleError("password", "The email or password is wrong.")
        guard let user = try await store.user(email: email.trimmingCharacters(in: .whitespaces)) else {
            // Same cost as a real check, so timing does not tell which emails exist.
            _ = Bcrypt.verify(password, hash: Self.dummyHash)
            throw generic
        }
        if let until = user.lockedUntil, until > now {
            throw ConsoleError("email", "Too many failed sign-ins: this account is locked until \(Self.time(until)).")
        }
        guard Bcrypt.verify(password, hash: user.passwordHash) else {
            try await recordFailure(user, origin: origin, now: now)
            throw generic
        }
        if user.failedAttempts > 0 || user.lockedUntil != nil {
            try await store.setSignInState(userID: user.id, failedAttempts: 0, lockedUntil: nil, audit: nil)
        }
        return user.totpEnabled ? .needsCode(userID: user.id) : .needsEnrolment(userID: user.id)
    }

    /// Counts a failed password or code; locks the account when the policy says so.
    func recordFailure(_ user: ConsoleUser, origin: AuditOrigin, now: Int64) async throws {
        let failures = user.failedAttempts + 1
        let locks = failures >= policy.maximumFailures
        let record = origin.with(action: locks ? "console.user.locked" : "console.signin.failed").record(
            at: now, account: "", target: user.email, details: ["failures": String(failures)], alert: locks ? .permissionDenied : nil)
        try await store.setSignInState(
            userID: user.id, failedAttempts: locks ? 0 : failures, lockedUntil: locks ? now + policy.lockoutMilliseconds : nil, audit: record)
    }

    // MARK: TOTP

    /// Starts (or restarts) enrolment: a new secret, sealed in the store, not yet enabled. Returns the otpauth URI
    /// and the base32 secret for manual entry.
    public func beginEnrolment(userID: Int64, origin: AuditOrigin) async throws -> (uri: String, secret: String) {
        guard let user = try await store.user(id: userID) else { throw ConsoleError("user", "Unknown user.") }
        let secret = Self.randomSecret()
        let sealed = try sealer.seal(secret, for: "console-user-\(user.id)")
        try await store.setTOTP(
            userID: user.id, sealed: sealed, enabled: false,
            audit: origin.with(action: "console.totp.begin").record(at: clock.milliseconds, account: "", target: user.email))
        let uri = TOTP(secret: secret).createAuthenticatorURL(label: "Keysmith:\(user.email)", issuer: "Keysmith")
        let base32 = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return (uri, base32)
    }

    /// Confirms enrolment with a code from the app; enables TOTP.
    public func confirmEnrolment(userID: Int64, code: String, origin: AuditOrigin) async throws {
        guard let user = try await store.user(id: userID), let sealed = user.totpSecretSealed else {
            throw ConsoleError("code", "Start the set-up again.")
        }
        try await check(code, user: user, sealed: sealed, origin: origin)
        try await store.setTOTP(
            userID: user.id, sealed: sealed, enabled: true,
            audit: origin.with(action: "console.totp.enable").record(at: clock.milliseconds, account: "", target: user.email))
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
        if user.failedAttempts > 0 { try await store.setSignInState(userID: user.id, failedAttempts: 0, lockedUntil: nil, audit: nil) }
    }

    /// Turns two-factor authentication off after a fresh code; the user must enrol again before anything else.
    public func disableTOTP(userID: Int64, code: String, origin: AuditOrigin) async throws {
        try await verify(code: code, userID: userID, origin: origin)
        guard let user = try await store.user(id: userID) else { throw ConsoleError("user", "Unknown user.") }
        try await store.setTOTP(
            userID: user.id, sealed: nil, enabled: false,
            audit: origin.with(action: "console.totp.disable").record(
                at: clock.milliseconds, account: "", target: user.email, alert: .permissionDenied))
    }

    private func check(_ code: String, user: ConsoleUser, sealed: [UInt8], origin: AuditOrigin) async throws {
        let digits = code.filter { !$0.isWhitespace }
        let secret = try sealer.open(sealed, for: "console-user-\(user.id)")
        let totp = TOTP(secret: secret)
        let now = clock.milliseconds
        let found = Self.matchingStep(digits, totp: totp, now: now)
        guard let matched = found else {
            try await recordFailure(user, origin: origin, now: now)
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
