import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

extension Harness {
    /// Returns once the audit writer has written every event queued so far (the requests made before the call).
    func auditWritten() async {
        await installation.auditQueue.drained()
    }

    func auditEvents(action: String) async throws -> [AuditEvent] {
        try await installation.auditStore.search(AuditQuery(action: action, limit: 1_000))
    }

    /// Every queued alert, whenever it is due.
    func queuedAlerts() async throws -> [AlertDelivery] {
        try await installation.alertStore.dueDeliveries(now: .max / 2, limit: 1_000)
    }

    func addUnreachableWebhook() async throws {
        _ = try await installation.alertSinks.add(
            name: "ops", kind: .webhook, target: "http://127.0.0.1:9/hook", events: Set(AlertKind.allCases), origin: .test)
    }
}

@Suite struct AuditTests {
    @Test
    func keyCreatedOverHTTPIsAuditedOnceInItsOwnTransaction() async throws {
        try await Harness.run { h in
            try await h.addUnreachableWebhook()
            _ = try await h.call(.post, "/api/v5/users/subaccount/create-subaccount", body: #"{"subAcct":"bot01trader"}"#, as: h.master)
            let reply = try await h.call(
                .post, "/api/v5/users/subaccount/apikey",
                body: #"{"subAcct":"bot01trader","label":"bot","perm":"trade","passphrase":"Bot-pass-123"}"#, as: h.master)
            let apiKey = try #require(reply.data.first?["apiKey"] as? String)
            // Written with the key, before the response: no waiting for the batched writer.
            let events = try await h.auditEvents(action: "POST /api/v5/users/subaccount/apikey")
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.record.actor == h.master.apiKey)
            #expect(event.record.target == apiKey)
            #expect(event.record.result == "0")
            #expect(event.record.clientIP == "127.0.0.1")
            #expect(event.record.details["perm"] == "read_only,trade")
            #expect(try await h.queuedAlerts().contains { $0.kind == .keyCreated && $0.record.target == apiKey })
            // Once the request writer has written everything queued: still one event for that request.
            await h.auditWritten()
            #expect(try await h.auditEvents(action: "POST /api/v5/users/subaccount/apikey").count == 1)
            let secret = try #require(reply.data.first?["secretKey"] as? String)
            let everything = try await h.installation.auditStore.search(AuditQuery(limit: 1_000))
            for event in everything {
                let line = try AuditEventLine(event).jsonLine()
                #expect(!line.contains(secret) && !line.contains("Bot-pass-123"))
            }
        }
    }

    @Test
    func failedAuthenticationIsAuditedWithHMACsOnly() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let wrong = try await h.call(.get, "/api/v5/account/balance", as: key) { $0[okx: "OK-ACCESS-PASSPHRASE"] = "Wrong-pass-1" }
            #expect(wrong.code == "50105")
            _ = try await h.call(.get, "/api/v5/account/balance", as: key) { $0[okx: "OK-ACCESS-KEY"] = "not-a-key" }
            await h.auditWritten()
            #expect(try await h.auditEvents(action: "GET /api/v5/account/balance").count == 2)
            let events = try await h.auditEvents(action: "GET /api/v5/account/balance")
            let passphraseFailure = try #require(events.first { $0.record.result == "50105" })
            #expect(passphraseFailure.record.actor == key.apiKey)
            #expect(passphraseFailure.record.details["passphraseHMAC"] == h.installation.auditHasher.hash("Wrong-pass-1"))
            let unknown = try #require(events.first { $0.record.result == "50111" })
            #expect(unknown.record.actor == "")
            #expect(unknown.record.details["keyHMAC"] == h.installation.auditHasher.hash("not-a-key"))
            for event in events {
                let line = try AuditEventLine(event).jsonLine()
                #expect(!line.contains("Wrong-pass-1") && !line.contains(key.secretKey) && !line.contains(key.passphrase))
            }
        }
    }

    @Test
    func requestsRaisePermissionBurstAndNewAddressAlerts() async throws {
        try await Harness.run(configure: { $0.authFailureBursts = .init(threshold: 3, windowMilliseconds: 60_000) }) { h in
            try await h.addUnreachableWebhook()
            let reader = try await h.subAccountKey(permissions: [.readOnly])
            let denied = try await h.call(
                .post, "/api/v5/users/subaccount/modify-apikey", body: #"{"subAcct":"x","apiKey":"y"}"#, as: reader)
            #expect(denied.code == "50120")
            for _ in 0..<3 {
                _ = try await h.call(.get, "/api/v5/account/config", as: reader, from: "198.51.100.9") {
                    $0[okx: "OK-ACCESS-PASSPHRASE"] = "Wrong-pass-1"
                }
            }
            for ip in ["203.0.113.5", "203.0.113.5", "203.0.113.6"] {
                #expect(try await h.call(.get, "/api/v5/account/config", as: reader, from: ip).code == "0")
            }
            await h.auditWritten()
            let alerts = try await h.queuedAlerts()
            #expect(alerts.contains { $0.kind == .permissionDenied })
            #expect(alerts.filter { $0.kind == .authFailureBurst }.count == 1)
            let newAddresses = alerts.filter { $0.kind == .keyNewIP }.map(\.record.clientIP).sorted()
            #expect(newAddresses == ["203.0.113.5", "203.0.113.6"])
            #expect(alerts.first { $0.kind == .permissionDenied }?.record.actor == reader.apiKey)
        }
    }

    @Test
    func revokingFromTheCLIPathRaisesItsAlertInTheSameWrite() async throws {
        try await Harness.run { h in
            try await h.addUnreachableWebhook()
            let key = try await h.subAccountKey()
            try await h.installation.keys.revoke(apiKey: key.apiKey, reason: "test", origin: AuditOrigin(actor: "cli:alice", action: "apikey.revoke"))
            let events = try await h.auditEvents(action: "apikey.revoke")
            #expect(events.map(\.record.actor) == ["cli:alice"])
            #expect(try await h.queuedAlerts().contains { $0.kind == .keyRevoked && $0.record.target == key.apiKey })
            // Revoking again changes nothing, and so records nothing.
            await #expect(throws: OKXError.self) {
                try await h.installation.keys.revoke(apiKey: key.apiKey, reason: "again", origin: .test)
            }
            #expect(try await h.auditEvents(action: "apikey.revoke").count == 1)
        }
    }

    @Test
    func fullQueueMakesAddersWaitAndDropsNothing() async throws {
        let queue = AuditQueue(capacity: 2)
        let records = (1...5).map { AuditRecord(time: Int64($0), actor: "k", action: "a\($0)") }
        let adder = Task {
            for record in records { await queue.add(record) }
        }
        var taken: [AuditRecord] = []
        while taken.count < records.count {
            #expect(queue.count <= 2)
            taken += queue.take(maximum: 1).records
            await Task.yield()
        }
        await adder.value
        #expect(taken == records)
    }

    @Test
    func serverChainVerifiesAndCheckpointsAreSigned() async throws {
        try await Harness.run { h in
            for _ in 0..<5 { _ = try await h.call(.get, "/api/v5/account/config", as: h.master) }
            await h.auditWritten()
            #expect(try await h.auditEvents(action: "GET /api/v5/account/config").count == 5)
            let outcome = try await h.installation.checkpoints.verify()
            #expect(outcome.problem == nil)
            #expect(outcome.events >= 7)
            let checkpoints = try await h.installation.checkpoints.allCheckpoints()
            #expect(checkpoints.last?.sequence == (try await h.installation.auditStore.head().sequence))
            // Periodic checkpoints verify only what came after the previous one, and find nothing wrong.
            for _ in 0..<3 {
                _ = try await h.call(.get, "/api/v5/account/balance", as: h.master)
                await h.auditWritten()
                #expect(
                    try await h.installation.auditStore.head().sequence > (try await h.installation.checkpoints.allCheckpoints().last?.sequence ?? 0))
                #expect(await h.installation.checkpoints.make() == nil)
            }
            #expect(try await h.auditEvents(action: "audit.verify").isEmpty)
            #expect(try await h.installation.checkpoints.verify().problem == nil)
        }
    }

    @Test
    func retentionArchivesOldEventsAndTheChainStillVerifies() async throws {
        try await Harness.run { h in
            for _ in 0..<4 { _ = try await h.subAccountKey() }
            let before = try await h.installation.auditStore.head()
            h.clock.advance(by: 2 * 86_400_000)
            _ = try await h.subAccountKey()
            let folder = FileManager.default.temporaryDirectory.appending(path: "archive-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let archiver = h.installation.auditArchiver(folder: folder)
            let archived = try #require(try await archiver.archive(before: h.clock.milliseconds - 86_400_000))
            #expect(archived.last == before.sequence && archived.events == Int(before.sequence))
            let mode = try FileManager.default.attributesOfItem(atPath: archived.file)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try await h.installation.auditStore.anchor() == before)
            #expect(try await h.installation.auditStore.events(after: 0, limit: 100).first?.sequence == before.sequence + 1)
            #expect(try await h.installation.checkpoints.verify().problem == nil)
            #expect(try await h.installation.checkpoints.verify(archived: try AuditArchiver.read(archived.file)).problem == nil)
            #expect(try await archiver.archive(before: h.clock.milliseconds - 86_400_000) == nil)
        }
    }
}
