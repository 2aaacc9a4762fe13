import Foundation
import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// What a console session holds: the CSRF token, the sign-in stage, the user and their session epoch. Never a
/// secret. Sessions are stored only once a password was accepted (the sign-in form carries a stateless token).
public struct ConsoleSession: Codable, Sendable {
    public enum Stage: String, Codable, Sendable {
        /// Not signed in (sessions are no longer stored in this stage; kept so that older rows still decode).
        case anonymous
        /// Password accepted; waiting for a TOTP code.
        case code
        /// Password accepted; TOTP enrolment required first.
        case enrol
        /// Fully signed in.
        case signedIn
    }

    public var csrf: String
    public var stage: Stage = .anonymous
    public var userID: Int64?
    /// The user's session epoch when this session got its user (nil in sessions stored before epochs: 0). Once the
    /// user's epoch moves on (their second factor changed), this session has ended.
    public var epoch: Int64?
    /// A message for the next page.
    public var flash: String?
    /// The one-time token of the open "create key" form, so a resubmitted form cannot create (and show) a second key.
    public var keyForm: String?

    public init() {
        csrf = KeyMaterial.randomBytes(24).lowercaseHex
    }
}

extension AppRequestContext: SessionRequestContext {
    public typealias Session = ConsoleSession
}

/// Hummingbird's session storage on the installation's database, so sessions survive a restart and expire there.
struct ConsoleSessionStorage: PersistDriver {
    let store: any ConsoleStore
    let clock: any WallClock

    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        // New sessions are rare next to reads: a good moment to drop the expired ones.
        try await store.removeExpiredSessions(now: clock.milliseconds)
        guard try await store.createSession(key: key, value: try encode(value), expiresAt: expiry(expires)) else {
            throw PersistError.duplicate
        }
    }

    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await store.setSession(key: key, value: try encode(value), expiresAt: expiry(expires))
    }

    func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let now = clock.milliseconds
        guard let found = try await store.session(key: key, now: now) else { return nil }
        guard let object = try? JSONDecoder().decode(type, from: Data(found.value)) else { throw PersistError.invalidConversion }
        return (object, found.expiresAt.map { .milliseconds($0 - now) })
    }

    func remove(key: String) async throws {
        try await store.removeSession(key: key)
    }

    private func encode(_ value: some Encodable) throws -> [UInt8] {
        [UInt8](try JSONEncoder().encode(value))
    }

    private func expiry(_ duration: Duration?) -> Int64? {
        duration.map { clock.milliseconds + $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
    }
}
