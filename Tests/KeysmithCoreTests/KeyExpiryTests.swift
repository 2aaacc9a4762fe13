import KeysmithCore
import Testing

struct KeyExpiryTests {
    static let day: Int64 = 86_400_000

    static func key(_ permissions: Permissions, ip: String = "", env: KeyEnvironment = .live, expiresAt: Int64? = nil) throws -> APIKey {
        APIKey(
            apiKey: "k", accountUID: "1", label: "l", permissions: permissions, allowlist: try IPAllowlist(okx: ip),
            environment: env, createdAt: 0, expiresAt: expiresAt)
    }

    @Test
    func unboundTradeAndWithdrawKeysExpireAfter14DaysUnused() throws {
        for permissions: Permissions in [.trade, .withdraw, [.trade, .withdraw]] {
            let key = try Self.key(permissions)
            #expect(key.expiry()?.at == 14 * Self.day)
            #expect(key.expiry()?.reason == .inactivity)
            #expect(key.status(at: 14 * Self.day - 1) == .active)
            #expect(key.status(at: 14 * Self.day) == .expired)
            // Each use restarts the 14 days.
            #expect(key.status(at: 20 * Self.day, lastUsedAt: 10 * Self.day) == .active)
            #expect(key.status(at: 24 * Self.day, lastUsedAt: 10 * Self.day) == .expired)
        }
    }

    @Test
    func boundReadOnlyAndDemoKeysDoNotExpireUnused() throws {
        #expect(try Self.key(.trade, ip: "192.0.2.1").expiry() == nil)
        #expect(try Self.key(.readOnly).expiry() == nil)
        #expect(try Self.key(.trade, env: .demo).expiry() == nil)
        #expect(try Self.key(.trade, ip: "192.0.2.1").status(at: 365 * Self.day) == .active)
    }

    @Test
    func theEarlierExpiryWins() throws {
        let soon = try Self.key(.trade, expiresAt: 3 * Self.day)
        #expect(soon.expiry()?.at == 3 * Self.day)
        #expect(soon.expiry()?.reason == .explicit)
        let late = try Self.key(.trade, expiresAt: 30 * Self.day)
        #expect(late.expiry()?.reason == .inactivity)
        // Use keeps it alive past 14 days, but never past its explicit date.
        #expect(late.status(at: 29 * Self.day, lastUsedAt: 28 * Self.day) == .active)
        #expect(late.status(at: 30 * Self.day, lastUsedAt: 29 * Self.day) == .expired)
        #expect(try Self.key(.readOnly, expiresAt: 5).expiry()?.reason == .explicit)
    }
}
