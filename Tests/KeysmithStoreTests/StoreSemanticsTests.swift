import Foundation
import KeysmithCore
import KeysmithStore
import Testing

/// What every backend must do the same way: apps re-bind their keys, cool-down changes, lifecycle events, usage,
/// freezing, the audit chain and its search and archive — and, with two connections to one database playing two
/// nodes, one audit chain and gap-free, commit-ordered change sequences under concurrent writers.
struct StoreSemanticsTests {
    @Test(arguments: Backend.available)
    func appChangesRebindTheirKeysInOneTransaction(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let app = try App(name: "3commas", allowlist: try IPAllowlist(okx: "10.0.0.1"), url: "https://3commas.io", createdAt: 1)
            try await stores.apps.insert(app: app, audit: audit())
            let duplicate = await #expect(throws: StoreError.self) { try await stores.apps.insert(app: app, audit: audit()) }
            #expect(duplicate?.kind == .duplicate)
            var linked = try storedKey(account: master, label: "bot")
            linked.key.purpose = .thirdParty(app: "3commas")
            linked.key.allowlist = app.allowlist
            try await stores.keys.insert(key: linked, maximumPerAccount: 50, audit: audit())
            let before = try await stores.keys.keyChanges(after: 0).latestSequence

            let moved = try App(name: "3commas", allowlist: try IPAllowlist(okx: "10.0.0.2,10.0.0.3"), createdAt: 1)
            #expect(try await stores.apps.update(app: moved, audit: audit()) == [linked.key.apiKey])
            let changed = try await stores.keys.keyChanges(after: before)
            #expect(changed.keys.map(\.key.apiKey) == [linked.key.apiKey])
            #expect(changed.keys.first?.key.allowlist.okxString == "10.0.0.2,10.0.0.3")
            #expect(try await stores.apps.app(named: "3commas")?.allowlist.okxString == "10.0.0.2,10.0.0.3")

            let inUse = await #expect(throws: StoreError.self) { try await stores.apps.removeApp(named: "3commas", audit: audit()) }
            #expect(inUse?.kind == .limitReached)
            _ = try await stores.keys.revoke(apiKey: linked.key.apiKey, at: 2, reason: "done", audit: audit())
            try await stores.apps.removeApp(named: "3commas", audit: audit())
            #expect(try await stores.apps.apps().isEmpty)
            let missing = await #expect(throws: StoreError.self) { try await stores.apps.removeApp(named: "3commas", audit: audit()) }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test(arguments: Backend.available)
    func pendingChangesApplyWhenDueAndOnlyToActiveKeys(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let live = try storedKey(account: master, label: "live"), revoked = try storedKey(account: master, label: "gone")
            for key in [live, revoked] { try await stores.keys.insert(key: key, maximumPerAccount: 50, audit: audit()) }
            for key in [live, revoked] {
                try await stores.keys.update(
                    key: key.key,
                    pending: PendingKeyChange(
                        apiKey: key.key.apiKey, permissions: .withdraw, allowlist: try IPAllowlist(okx: "10.1.1.1"), requestedAt: 10,
                        effectiveAt: 100),
                    audit: audit())
            }
            _ = try await stores.keys.revoke(apiKey: revoked.key.apiKey, at: 20, reason: "test", audit: audit())
            #expect(try await stores.keys.allPending().map(\.apiKey) == [live.key.apiKey])
            #expect(try await stores.keys.applyPending(dueAt: 99, audit: { _ in audit() }).isEmpty)
            #expect(try await stores.keys.applyPending(dueAt: 100, audit: { _ in audit("applied") }) == [live.key.apiKey])
            let applied = try #require(try await stores.keys.key(apiKey: live.key.apiKey))
            #expect(applied.key.permissions.contains(.withdraw))
            #expect(applied.key.allowlist.okxString == "10.1.1.1")
            #expect(try await stores.keys.pending(apiKey: live.key.apiKey) == nil)
            #expect(try await stores.keys.cancelPending(apiKey: live.key.apiKey, audit: audit()) == false)
        }
    }

    @Test(arguments: Backend.available)
    func keyEventsAreRecordedOncePerExpiry(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let key = try storedKey(account: master, label: "expiring")
            let event = KeyEvent(apiKey: key.key.apiKey, kind: .expiringIn3Days, expiresAt: 500, reason: .explicit, at: 10)
            #expect(try await stores.events.record(event, audit: audit("key.expiring")))
            #expect(try await stores.events.record(event, audit: audit("key.expiring")) == false)
            var later = event
            later.expiresAt = 900
            #expect(try await stores.events.record(later, audit: audit("key.expiring")))
            #expect(try await stores.events.keyEvents(apiKey: key.key.apiKey).map(\.expiresAt) == [500, 900])
            #expect(try await stores.events.keyEvents(apiKey: "other").isEmpty)
            let actions = try await stores.audit.search(AuditQuery(action: "key.expiring")).map(\.record.action)
            #expect(actions == ["key.expiring", "key.expiring"])
        }
    }

    @Test(arguments: Backend.available)
    func usageKeepsTheLatestUseWithoutAKeyChange(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let key = try storedKey(account: master, label: "used")
            try await stores.keys.insert(key: key, maximumPerAccount: 50, audit: audit())
            let sequence = try await stores.keys.keyChanges(after: 0).latestSequence
            try await stores.keys.recordUsage([
                KeyUsage(apiKey: key.key.apiKey, at: 50, ip: "10.0.0.9"), KeyUsage(apiKey: "unknown", at: 50, ip: nil),
            ])
            try await stores.keys.recordUsage([KeyUsage(apiKey: key.key.apiKey, at: 40, ip: "10.0.0.1")])
            let stored = try #require(try await stores.keys.key(apiKey: key.key.apiKey))
            #expect(stored.key.lastUsedAt == 50)
            #expect(stored.key.lastUsedIP == "10.0.0.9")
            #expect(try await stores.keys.keyChanges(after: sequence).keys.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func freezingMarksTheAccountsKeysChanged(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let sub = account(name: "bot01", parent: master.uid)
            try await stores.keys.insert(account: sub, audit: audit())
            var key = try storedKey(account: sub, label: "k")
            key.secretFingerprint = [9, 9, 9]
            try await stores.keys.insert(key: key, maximumPerAccount: 50, audit: audit())
            #expect(try await stores.keys.key(secretFingerprint: [9, 9, 9])?.key.apiKey == key.key.apiKey)
            let before = try await stores.keys.keyChanges(after: 0).latestSequence
            #expect(try await stores.keys.setFrozen(accountUID: sub.uid, frozen: true, audit: audit()))
            #expect(try await stores.keys.setFrozen(accountUID: "nobody", frozen: true, audit: audit()) == false)
            #expect(try await stores.keys.account(uid: sub.uid)?.frozen == true)
            #expect(try await stores.keys.keyChanges(after: before).keys.map(\.key.apiKey) == [key.key.apiKey])
        }
    }

    @Test(arguments: Backend.available)
    func rotationShortensTheOldKeyAndInsertsItsSuccessorTogether(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            let old = try storedKey(account: master, label: "v1")
            try await stores.keys.insert(key: old, maximumPerAccount: 50, audit: audit())
            var successor = try storedKey(account: master, label: "v2")
            successor.key.rotatedFrom = old.key.apiKey
            try await stores.keys.rotate(apiKey: old.key.apiKey, oldKeyExpiresAt: 99, successor: successor, audit: audit())
            #expect(try await stores.keys.key(apiKey: old.key.apiKey)?.key.expiresAt == 99)
            #expect(try await stores.keys.key(apiKey: successor.key.apiKey)?.key.rotatedFrom == old.key.apiKey)
            // A clash on the successor's label leaves the old key as it was.
            let clash = try storedKey(account: master, label: "v2")
            let error = await #expect(throws: StoreError.self) {
                try await stores.keys.rotate(apiKey: successor.key.apiKey, oldKeyExpiresAt: 5, successor: clash, audit: audit())
            }
            #expect(error?.kind == .duplicate)
            #expect(try await stores.keys.key(apiKey: successor.key.apiKey)?.key.expiresAt == nil)
            #expect(try await stores.keys.key(apiKey: clash.key.apiKey) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func auditSearchFiltersAndArchiveMovesTheAnchor(_ backend: Backend) async throws {
        try await withStores(backend) { stores, _ in
            var records: [AuditRecord] = []
            for index in 1...30 {
                let actor: String = index % 2 == 0 ? "alice" : "bob"
                let action: String = index % 3 == 0 ? "POST /api/v5/asset/transfer" : "GET /x"
                let result: String = index % 5 == 0 ? "50113" : "0"
                records.append(
                    AuditRecord(
                        time: Int64(index), actor: actor, action: action, clientIP: "10.0.0.\(index)", result: result,
                        details: ["ip_hash": "h\(index)"]))
            }
            try await stores.audit.append(records)
            let head = try await stores.audit.head()
            #expect(head.sequence == 31)  // the master account's insert, then 30
            #expect(try await stores.audit.search(AuditQuery(actor: "alice", limit: 100)).count == 15)
            #expect(try await stores.audit.search(AuditQuery(action: "asset/TRANSFER", limit: 100)).count == 10)
            #expect(try await stores.audit.search(AuditQuery(result: "50113", since: 10, until: 20, limit: 100)).map(\.record.time) == [10, 15])
            #expect(try await stores.audit.search(AuditQuery(detailValue: "h7", limit: 100)).map(\.record.time) == [7])
            let page = try await stores.audit.search(AuditQuery(beforeSequence: 20, limit: 5))
            #expect(page.map(\.sequence) == [15, 16, 17, 18, 19])

            let saved = SavedEvents()
            let archived = try await stores.audit.archive(through: 11, to: "archive-1.jsonl", at: 99, save: { saved.add($0) })
            #expect(archived == 11)
            #expect(saved.events.map(\.sequence) == Array(1...11))
            let anchor = try await stores.audit.anchor()
            #expect(anchor.sequence == 11)
            let rest = try await stores.audit.events(after: 0, limit: 1000)
            #expect(rest.first?.sequence == 12)
            expectUnbrokenChain(rest, from: anchor)
            try await stores.audit.append([audit("after-archive")])
            #expect(try await stores.audit.head().sequence == 32)
        }
    }

    @Test(arguments: Backend.available)
    func twoNodesWritingAtOnceFormOneChainAndOrderedChangeSequences(_ backend: Backend) async throws {
        try await withTwoNodes(backend) { nodeA, nodeB, master in
            // A reader on node B follows the change sequence while both nodes insert keys and append audit batches.
            let follower = Task {
                var seen: [Int64] = []
                var last: Int64 = 0
                for _ in 0..<200 {
                    let changes = try await nodeB.keys.keyChanges(after: last)
                    seen += changes.keys.map(\.changeSequence)
                    last = changes.latestSequence
                    try await Task.sleep(for: .milliseconds(2))
                }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in [nodeA, nodeB].enumerated() {
                    group.addTask {
                        for round in 0..<20 {
                            try await node.keys.insert(
                                key: try storedKey(account: master, label: "n\(index)-\(round)"), maximumPerAccount: 100, audit: audit())
                            try await node.audit.append((0..<5).map { _ in AuditRecord(time: Int64(round), actor: "node\(index)", action: "batch") })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await follower.value
            let all = try await nodeA.keys.keyChanges(after: 0)
            #expect(all.keys.count == 40)
            #expect(all.keys.map(\.changeSequence) == Array(1...40))
            // What the follower saw while writes were in flight never skipped a sequence it would not see again.
            #expect(seen == seen.sorted())
            #expect(Set(seen).count == seen.count)
            if let highest = seen.last { #expect(seen == Array(1...highest)) }

            let events = try await nodeB.audit.events(after: 0, limit: 10_000)
            #expect(events.count == 1 + 40 + 200)
            expectUnbrokenChain(events, from: .genesis)
        }
    }
}

/// Collects what an archive call hands over.
final class SavedEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var saved: [AuditEvent] = []

    func add(_ events: [AuditEvent]) {
        lock.withLock { saved += events }
    }

    var events: [AuditEvent] { lock.withLock { saved } }
}
