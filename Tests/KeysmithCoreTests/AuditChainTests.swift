import Crypto
import Foundation
import KeysmithCore
import Testing

struct AuditChainTests {
    static let signer = AuditCheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())

    static func chain(_ count: Int) -> [AuditEvent] {
        var head = AuditChain.Head.genesis
        var events: [AuditEvent] = []
        for i in 1...count {
            let details: [String: String] = i % 5 == 0 ? ["perm": "read_only"] : [:]
            let record = AuditRecord(
                time: 1_700_000_000_000 + Int64(i), requestID: "r\(i)", actor: "key-\(i % 3)", action: "GET /api/v5/account/balance",
                clientIP: "203.0.113.\(i)", result: i % 4 == 0 ? "50105" : "0", details: details)
            events.append(head.append(record))
        }
        return events
    }

    static func verify(_ events: [AuditEvent], checkpoints: [AuditCheckpoint] = [], start: AuditChain.Head = .genesis) -> AuditChainProblem? {
        var verifier = AuditChainVerifier(start: start, checkpoints: checkpoints, publicKey: signer.publicKey)
        for event in events { verifier.check(event) }
        return verifier.finish()
    }

    static func checkpoint(_ event: AuditEvent) throws -> AuditCheckpoint {
        try signer.checkpoint(AuditChain.Head(sequence: event.sequence, hash: event.hash), at: 1)
    }

    @Test
    func intactChainVerifies() throws {
        let events = Self.chain(20)
        #expect(events.first?.previousHash == AuditChain.genesisHash)
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.hash == $1.previousHash })
        #expect(Self.verify(events, checkpoints: [try Self.checkpoint(events[9]), try Self.checkpoint(events[19])]) == nil)
    }

    /// The canonical form is fixed: a digest computed elsewhere from the documented layout must match.
    @Test
    func canonicalFormIsTheDocumentedLayout() {
        let record = AuditRecord(
            time: 1, requestID: "r", actor: "a", account: "", action: "x", target: "t", clientIP: "", result: "0",
            latencyMicroseconds: 2, details: ["b": "2", "a": "1"])
        var expected = Array("keysmith-audit-v1".utf8) + AuditChain.genesisHash
        expected += [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0, 0, 0, 0, 2]
        for field in ["r", "a", "", "x", "t", "", "0"] {
            expected += [0, 0, 0, UInt8(field.utf8.count)] + Array(field.utf8)
        }
        expected += [0, 0, 0, 2] + [0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x31] + [0, 0, 0, 1, 0x62, 0, 0, 0, 1, 0x32]
        #expect(AuditChain.canonicalForm(of: record, after: AuditChain.genesisHash) == expected)
        #expect(AuditChain.hash(of: record, after: AuditChain.genesisHash) == Array(SHA256.hash(data: expected)))
    }

    @Test(arguments: [1, 7, 20])
    func editedEventIsNamed(_ index: Int) {
        var events = Self.chain(20)
        events[index - 1].record.clientIP = "198.51.100.1"
        let problem = Self.verify(events)
        #expect(problem?.kind == .edited)
        #expect(problem?.sequence == Int64(index))
    }

    @Test
    func deletedEventIsNamed() {
        var events = Self.chain(20)
        events.remove(at: 6)
        #expect(Self.verify(events)?.message == "event 7 was deleted")
        // Deleted and the rest renumbered: the broken link still names where.
        var renumbered = Self.chain(20)
        renumbered.remove(at: 6)
        for i in 6..<renumbered.count { renumbered[i].sequence -= 1 }
        let problem = Self.verify(renumbered)
        #expect(problem?.kind == .deleted)
        #expect(problem?.sequence == 7)
    }

    @Test
    func reorderedEventIsNamed() {
        var events = Self.chain(20)
        // Swap the contents of events 5 and 6, keeping the sequence numbers in place.
        let fifth = events[4], sixth = events[5]
        events[4] = AuditEvent(sequence: 5, record: sixth.record, previousHash: sixth.previousHash, hash: sixth.hash)
        events[5] = AuditEvent(sequence: 6, record: fifth.record, previousHash: fifth.previousHash, hash: fifth.hash)
        let problem = Self.verify(events)
        #expect(problem?.kind == .reordered)
        #expect(problem?.sequence == 5)
    }

    @Test
    func truncatedTailIsCaughtByACheckpoint() throws {
        let events = Self.chain(20)
        let checkpoint = try Self.checkpoint(events[17])
        let problem = Self.verify(Array(events.prefix(15)), checkpoints: [checkpoint])
        #expect(problem?.kind == .truncated)
        #expect(problem?.sequence == 18)
        // Without a checkpoint past the cut, a shorter chain is indistinguishable from a younger one.
        #expect(Self.verify(Array(events.prefix(15))) == nil)
    }

    @Test
    func rewrittenChainAndForgedCheckpointsAreCaught() throws {
        let events = Self.chain(10)
        let checkpoint = try Self.checkpoint(events[9])
        // Rewrite event 3 and recompute every hash after it: links and hashes are consistent again…
        var head = AuditChain.Head(sequence: 2, hash: events[1].hash)
        var rewritten = Array(events.prefix(2))
        for event in events.dropFirst(2) {
            var record = event.record
            if event.sequence == 3 { record.actor = "someone-else" }
            rewritten.append(head.append(record))
        }
        #expect(Self.verify(rewritten) == nil)
        // …but not with the checkpoint signed before the rewrite.
        #expect(Self.verify(rewritten, checkpoints: [checkpoint])?.kind == .rewritten)
        // A checkpoint signed by another key is a forgery.
        let other = AuditCheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        let forged = try other.checkpoint(AuditChain.Head(sequence: 10, hash: rewritten[9].hash), at: 1)
        #expect(Self.verify(rewritten, checkpoints: [forged])?.kind == .forgedCheckpoint)
    }

    @Test
    func archiveAnchorMustBeSigned() throws {
        let events = Self.chain(10)
        let anchor = AuditChain.Head(sequence: 4, hash: events[3].hash)
        let retained = Array(events.dropFirst(4))
        #expect(Self.verify(retained, checkpoints: [try Self.checkpoint(events[3])], start: anchor) == nil)
        let problem = Self.verify(retained, start: anchor)
        #expect(problem?.kind == .deleted)
        #expect(problem?.message.contains("forged") == true)
    }

    @Test
    func hasherIsKeyedAndStable() {
        let one = AuditHasher(key: Array(repeating: 1, count: 32)), two = AuditHasher(key: Array(repeating: 2, count: 32))
        #expect(one.hash("Wrong-pass-1") == one.hash("Wrong-pass-1"))
        #expect(one.hash("Wrong-pass-1") != two.hash("Wrong-pass-1"))
        #expect(one.hash("Wrong-pass-1").hasPrefix("hmac-sha256:"))
        #expect(!one.hash("Wrong-pass-1").contains("Wrong"))
    }

    @Test
    func alertEventListsParse() throws {
        #expect(try AlertKind.parseList("all").get().count == AlertKind.allCases.count)
        #expect(try AlertKind.parseList("key.created, key.revoked").get() == [.keyCreated, .keyRevoked, .test])
        guard case .failure(let error) = AlertKind.parseList("key.created,key.exploded") else {
            Issue.record("an unknown event was accepted")
            return
        }
        #expect(error.description.contains("key.exploded"))
    }
}
