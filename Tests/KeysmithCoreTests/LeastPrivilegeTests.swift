import KeysmithCore
import Testing

struct LeastPrivilegeTests {
    static let day: Int64 = 86_400_000

    static func key(_ permissions: Permissions, ip: String = "", lastUsed: Int64? = nil, expiresAt: Int64? = nil) throws -> APIKey {
        var key = APIKey(
            apiKey: "K", accountUID: "1", label: "l", permissions: permissions, allowlist: try IPAllowlist(okx: ip),
            environment: .live, createdAt: 0, expiresAt: expiresAt)
        key.lastUsedAt = lastUsed
        return key
    }

    static func kinds(_ key: APIKey, at now: Int64) -> [LeastPrivilege.Kind] {
        LeastPrivilege.findings(for: key, now: now).map(\.kind)
    }

    @Test
    func aNarrowRecentlyUsedKeyHasNoFindings() throws {
        #expect(Self.kinds(try Self.key([.trade], ip: "192.0.2.1", lastUsed: 9 * Self.day), at: 10 * Self.day).isEmpty)
        #expect(Self.kinds(try Self.key(.readOnly, lastUsed: 9 * Self.day), at: 10 * Self.day).isEmpty)
    }

    @Test
    func withdrawAndUnboundTradeAreFlaggedWithTheirFix() throws {
        let key = try Self.key([.trade, .withdraw], lastUsed: 1 * Self.day)
        let findings = LeastPrivilege.findings(for: key, now: 2 * Self.day)
        #expect(findings.map(\.kind) == [.withdrawPermission, .unboundTradeKey])
        #expect(findings[0].fix.contains("--perm read_only,trade"))
        #expect(findings[1].fix.contains("keysmith apikey modify K --ip"))
    }

    @Test
    func unusedNeverUsedAndExpiring() throws {
        #expect(Self.kinds(try Self.key(.readOnly, ip: "192.0.2.1", lastUsed: 0), at: 30 * Self.day) == [.unused])
        #expect(Self.kinds(try Self.key(.readOnly, ip: "192.0.2.1"), at: 7 * Self.day) == [.neverUsed])
        #expect(Self.kinds(try Self.key(.readOnly, ip: "192.0.2.1"), at: 6 * Self.day).isEmpty)
        let expiring = try Self.key(.readOnly, ip: "192.0.2.1", lastUsed: 1 * Self.day, expiresAt: 5 * Self.day)
        #expect(Self.kinds(expiring, at: 2 * Self.day) == [.expiringSoon])
        #expect(LeastPrivilege.findings(for: expiring, now: 2 * Self.day)[0].fix.contains("apikey rotate K"))
        // An unbound trade key nears its 14-days-unused expiry.
        let unbound = try Self.key([.trade], lastUsed: 0)
        #expect(Self.kinds(unbound, at: 8 * Self.day) == [.unboundTradeKey, .expiringSoon])
        #expect(Self.kinds(unbound, at: 14 * Self.day).isEmpty)   // expired keys are past reviewing
    }
}
