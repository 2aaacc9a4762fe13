import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

/// Expiry warnings 3 days and 1 day ahead, and the expiry itself — each recorded once per expiry date.
@Suite struct ExpiryWatcherTests {
    static let day: Int64 = 86_400_000

    @Test
    func warnsThreeDaysAndOneDayAheadThenRecordsTheExpiry() async throws {
        try await Harness.run { h in
            let account = try await h.existingOrNewSubAccount("bot01trader")
            let expiresAt = h.clock.milliseconds + 10 * Self.day
            let key = try await h.installation.keys.create(
                NewKeyRequest(account: account, label: "temp", allowlist: try IPAllowlist(okx: "127.0.0.1"), expiresAt: expiresAt), origin: .test).key
            let watcher = h.installation.expiryWatcher
            #expect(await watcher.scan().isEmpty)
            h.clock.advance(by: 7 * Self.day)
            #expect(await watcher.scan().map(\.kind) == [.expiringIn3Days])
            #expect(await watcher.scan().isEmpty)   // once
            h.clock.advance(by: 2 * Self.day)
            #expect(await watcher.scan().map(\.kind) == [.expiringIn1Day])
            h.clock.advance(by: Self.day)
            let expired = await watcher.scan()
            #expect(expired.map(\.kind) == [.expired])
            #expect(expired.first?.expiresAt == expiresAt)
            #expect(expired.first?.reason == .explicit)
            let stored = try await h.installation.events.keyEvents(apiKey: key.apiKey)
            #expect(stored.map(\.kind) == [.expiringIn3Days, .expiringIn1Day, .expired])
            // Each one joined the audit chain with its alert.
            let audited = try await h.installation.auditStore.search(AuditQuery(action: "apikey.expir", limit: 10))
            #expect(audited.map(\.record.action) == ["apikey.expiring", "apikey.expiring", "apikey.expired"])
            #expect(audited.allSatisfy { $0.record.target == key.apiKey && $0.record.actor == "system" })
        }
    }

    @Test
    func usingAnUnboundTradeKeyMovesItsWarnings() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(permissions: [.readOnly, .trade])
            let watcher = h.installation.expiryWatcher
            h.clock.advance(by: 11 * Self.day)
            let first = await watcher.scan()
            #expect(first.map(\.kind) == [.expiringIn3Days])
            #expect(first.first?.reason == .inactivity)
            // A use restarts the 14 days: the next warning is about the new expiry.
            #expect(try await h.call(.get, "/api/v5/account/balance", as: key).code == "0")
            #expect(await watcher.scan().isEmpty)
            h.clock.advance(by: 11 * Self.day)
            let second = await watcher.scan()
            #expect(second.map(\.kind) == [.expiringIn3Days])
            #expect(second.first?.expiresAt == h.clock.milliseconds + 3 * Self.day)
            // Keys that do not expire never warn.
            _ = try await h.subAccountKey(permissions: .readOnly)
            h.clock.advance(by: 100 * Self.day)
            #expect(await watcher.scan().map(\.apiKey) == [key.apiKey])
        }
    }
}
