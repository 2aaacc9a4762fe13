import KeysmithCore
import KeysmithServer
import Testing

struct ReplayGuardTests {
    @Test
    func keepsLiveSignaturesAndDropsExpiredOnesAsItGrows() {
        let guardian = ReplayGuard()
        let t: Int64 = 1_000_000
        for i in 0..<100_000 {
            #expect(guardian.accept(apiKey: "k", signature: "s\(i)", signedAt: t, now: t))
        }
        // All still inside the window: none may be forgotten, however many there are.
        #expect(guardian.trackedSignatures == 100_000)
        #expect(!guardian.accept(apiKey: "k", signature: "s0", signedAt: t, now: t + 1))
        #expect(!guardian.accept(apiKey: "k", signature: "s99999", signedAt: t, now: t + 1))
        #expect(guardian.accept(apiKey: "other", signature: "s0", signedAt: t, now: t + 1))
        // Past the window the old ones are stale and are dropped as new signatures arrive.
        let later = t + OKXTimestamp.window + 1
        for i in 0..<100_000 {
            _ = guardian.accept(apiKey: "k", signature: "n\(i)", signedAt: later, now: later)
        }
        #expect(guardian.trackedSignatures < 150_000)
        // A signature whose window has passed is no replay (its timestamp would be refused anyway).
        #expect(guardian.accept(apiKey: "k", signature: "s1", signedAt: t, now: later))
    }
}
