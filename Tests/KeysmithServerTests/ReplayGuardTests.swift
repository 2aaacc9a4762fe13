import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

struct ReplayGuardTests {
    static func content(_ key: String, _ body: String, target: String = "/api/v5/asset/transfer") -> SignedContent {
        SignedContent(apiKey: key, timestamp: "2025-11-23T12:13:20.000Z", method: "POST", requestPath: target, body: body)
    }

    @Test
    func keepsLiveRequestsAndDropsExpiredOnesAsItGrows() {
        let guardian = ReplayGuard()
        let t: Int64 = 1_000_000
        for i in 0..<100_000 {
            #expect(guardian.accept(Self.content("k", "s\(i)"), signedAt: t, now: t))
        }
        // All still inside the window: none may be forgotten, however many there are.
        #expect(guardian.trackedRequests == 100_000)
        #expect(!guardian.accept(Self.content("k", "s0"), signedAt: t, now: t + 1))
        #expect(!guardian.accept(Self.content("k", "s99999"), signedAt: t, now: t + 1))
        #expect(guardian.accept(Self.content("other", "s0"), signedAt: t, now: t + 1))
        // Past the window the old ones are stale and are dropped as new requests arrive.
        let later = t + OKXTimestamp.window + 1
        for i in 0..<100_000 {
            _ = guardian.accept(Self.content("k", "n\(i)"), signedAt: later, now: later)
        }
        #expect(guardian.trackedRequests < 150_000)
        // A request whose window has passed is no replay (its timestamp would be refused anyway).
        #expect(guardian.accept(Self.content("k", "s1"), signedAt: t, now: later))
    }

    @Test
    func theSignedContentIsTheRecordNotHowItIsSplit() {
        // Bytes moved between target and body leave the prehash, and so the signature, unchanged: the same request.
        #expect(Self.content("k", "b={}", target: "/p?a") == Self.content("k", "={}", target: "/p?ab"))
        #expect(Self.content("k", "{}") != Self.content("k2", "{}"))
        // The key id cannot run into the prehash.
        #expect(
            SignedContent(apiKey: "k2", timestamp: "0", method: "POST", requestPath: "/", body: "")
                != SignedContent(apiKey: "k", timestamp: "20", method: "POST", requestPath: "/", body: ""))
    }
}
