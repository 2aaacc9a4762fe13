import Foundation
import KeysmithCore
import KeysmithStore
import Testing

/// Console users on every backend: failures counted by increments in the store (parallel failures each count, the
/// lock decided on the incremented value), password failures per network, and TOTP changes that check the user's
/// state in the update itself and move the session epoch on.
struct ConsoleStoreTests {
    static let lockout = ConsoleLockout(maximumFailures: 5, milliseconds: 900_000)

    static func user(_ stores: TestStores) async throws -> ConsoleUser {
        try await stores.console.insertUser(email: "ops@example.com", passwordHash: "$2b$12$hash", createdAt: 1, audit: audit())
    }

    static func parallelFailures(
        _ count: Int, _ scope: ConsoleFailureScope, user: Int64, _ stores: TestStores, lockout: ConsoleLockout = lockout, now: Int64 = 1_000
    ) async throws -> [ConsoleFailureCount] {
        try await withThrowingTaskGroup(of: ConsoleFailureCount.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await stores.console.recordFailure(scope, userID: user, now: now, lockout: lockout) { count in
                        AuditRecord(time: now, actor: "test", action: count.lockedUntil == nil ? "failed" : "locked")
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test(arguments: Backend.available)
    func parallelFailuresEachCount(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            let user = try await Self.user(stores)
            let many = ConsoleLockout(maximumFailures: 1_000, milliseconds: 900_000)
            for scope in [ConsoleFailureScope.code, .password(network: "203.0.113.7")] {
                let counts = try await Self.parallelFailures(20, scope, user: user.id, stores, lockout: many)
                #expect(counts.map(\.failures).sorted() == Array(1...20), "\(scope)")
                #expect(counts.allSatisfy { $0.lockedUntil == nil })
            }
            #expect(try await stores.console.user(id: user.id)?.failedAttempts == 20)
            let events = try await stores.audit.search(AuditQuery(action: "failed", limit: 100))
            #expect(events.count == 40, "each failure audited in its own transaction")
        }
    }

    @Test(arguments: Backend.available)
    func theFailureThatReachesTheMaximumLocksOnce(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            let user = try await Self.user(stores)
            let here = ConsoleFailureScope.password(network: "203.0.113.7")
            let counts = try await Self.parallelFailures(8, here, user: user.id, stores)
            #expect(counts.map(\.failures).sorted() == [1, 1, 2, 2, 3, 3, 4, 5])
            #expect(counts.filter { $0.lockedUntil != nil }.map(\.failures) == [5])
            #expect(try await stores.console.lockedUntil(here, userID: user.id, now: 1_000) == 901_000)
            #expect(try await stores.console.lockedUntil(here, userID: user.id, now: 901_000) == nil, "until, not including")
            // Another network and the code factor are not locked.
            #expect(try await stores.console.lockedUntil(.password(network: "198.51.100.1"), userID: user.id, now: 1_000) == nil)
            #expect(try await stores.console.lockedUntil(.code, userID: user.id, now: 1_000) == nil)
            #expect(try await stores.audit.search(AuditQuery(action: "locked", limit: 10)).count == 1)

            let codes = try await Self.parallelFailures(5, .code, user: user.id, stores)
            #expect(codes.map(\.failures).sorted() == [1, 2, 3, 4, 5])
            let locked = try #require(try await stores.console.user(id: user.id))
            #expect(locked.lockedUntil == 901_000 && locked.failedAttempts == 0)
            #expect(try await stores.console.lockedUntil(.code, userID: user.id, now: 1_000) == 901_000)

            try await stores.console.clearFailures(here, userID: user.id)
            try await stores.console.clearFailures(.code, userID: user.id)
            #expect(try await stores.console.lockedUntil(here, userID: user.id, now: 1_000) == nil)
            #expect(try await stores.console.user(id: user.id)?.lockedUntil == nil)
        }
    }

    @Test(arguments: Backend.available)
    func aNetworksPasswordFailuresAreForgottenAfterTheLockoutPeriod(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            let user = try await Self.user(stores)
            let here = ConsoleFailureScope.password(network: "2001:db8:1:2::/64")
            _ = try await Self.parallelFailures(4, here, user: user.id, stores, now: 1_000)
            let later = try await Self.parallelFailures(1, here, user: user.id, stores, now: 1_000 + 900_000)
            #expect(later.map(\.failures) == [1])
            #expect(try await stores.console.lockedUntil(here, userID: user.id, now: 901_000) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func enrolmentOnlyForAUserWithoutTwoFactor(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            let user = try await Self.user(stores)
            #expect(user.sessionEpoch == 0)
            #expect(try await stores.console.disableTOTP(userID: user.id, audit: audit()) == nil, "nothing to turn off")
            #expect(try await stores.console.beginTOTP(userID: user.id, sealed: [1, 1], audit: audit()))
            #expect(try await stores.console.beginTOTP(userID: user.id, sealed: [2, 2], audit: audit()), "restarted")
            #expect(try await stores.console.enableTOTP(userID: user.id, sealed: [1, 1], audit: audit()) == nil, "not the pending secret")
            #expect(try await stores.console.enableTOTP(userID: user.id, sealed: [2, 2], audit: audit()) == 1)
            #expect(try await stores.console.enableTOTP(userID: user.id, sealed: [2, 2], audit: audit()) == nil, "already on")
            // A session that is behind can no longer start an enrolment over the confirmed one.
            #expect(try await stores.console.beginTOTP(userID: user.id, sealed: [3, 3], audit: audit()) == false)
            let enrolled = try #require(try await stores.console.user(id: user.id))
            #expect(enrolled.totpEnabled && enrolled.totpSecretSealed == [2, 2] && enrolled.sessionEpoch == 1)
            #expect(try await stores.console.disableTOTP(userID: user.id, audit: audit()) == 2)
            let off = try #require(try await stores.console.user(id: user.id))
            #expect(!off.totpEnabled && off.totpSecretSealed == nil && off.sessionEpoch == 2)
            #expect(try await stores.console.beginTOTP(userID: user.id, sealed: [4, 4], audit: audit()))
        }
    }

    @Test(arguments: Backend.available)
    func sessionsAreCounted(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            #expect(try await stores.console.sessionCount() == 0)
            #expect(try await stores.console.createSession(key: "s.a", value: [1], expiresAt: 10))
            try await stores.console.setSession(key: "s.b", value: [2], expiresAt: 20)
            #expect(try await stores.console.sessionCount() == 2)
            try await stores.console.removeExpiredSessions(now: 10)
            #expect(try await stores.console.sessionCount() == 1)
        }
    }
}
