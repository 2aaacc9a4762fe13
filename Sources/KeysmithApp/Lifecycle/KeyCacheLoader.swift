import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Keeps a ``KeyCache`` current with the store: loads every key at start, then polls the store's change sequence
/// (every 250 ms by default), so keys created, modified or revoked by the CLI or another process take effect in
/// well under a second. The server's own writes call ``refresh()`` at once.
///
/// A key missing from the cache may have just been created by another process: ``refresh(coveringArrivalAt:)``
/// lets such a request wait for a refresh that started after it arrived. Those refreshes are coalesced and spaced
/// at least `minimumMissInterval` apart, so a flood of unknown keys costs a bounded number of indexed queries per
/// second in total (50 by default), never one per request.
public actor KeyCacheLoader: Service {
    private let store: any KeyStore
    private let sealer: SecretSealer
    /// The cache this loader keeps current.
    public nonisolated let cache: KeyCache
    /// How often ``run()`` polls the store's change sequence: the bound on how long a change made by another
    /// process takes to reach this node when nothing pushes it (250 ms by default).
    public nonisolated let interval: Duration
    public static let defaultInterval: Duration = .milliseconds(250)
    private let logger: Logger
    /// A database down for a moment is a warning; one down for long, an error.
    private let failures = RetriedFailures()
    /// Callers of ``nextPoll()``, resumed when the poll that starts after them has finished.
    private var pollWaiters: [CheckedContinuation<Void, Never>] = []
    private let minimumMissInterval: Duration = .milliseconds(20)
    private var accounts: [String: Account] = [:]
    private var lastRefreshStart: ContinuousClock.Instant?

    public init(store: any KeyStore, sealer: SecretSealer, cache: KeyCache, interval: Duration = KeyCacheLoader.defaultInterval, logger: Logger) {
        self.store = store
        self.sealer = sealer
        self.cache = cache
        self.interval = interval
        self.logger = logger
    }

    /// Reads every change since the cache's sequence and applies it. Serialised by the actor.
    public func refresh() async throws(StoreError) {
        let started = ContinuousClock.now
        lastRefreshStart = started
        let changes = try await store.keyChanges(after: cache.sequence)
        guard !changes.keys.isEmpty else {
            cache.confirmFresh(at: started)
            return
        }
        // A change may come from the account (frozen or unfrozen): read accounts afresh for this batch.
        accounts = [:]
        var upserts: [CachedKey] = []
        var removals: [String] = []
        for stored in changes.keys {
            if stored.key.revokedAt != nil {
                removals.append(stored.key.apiKey)
                continue
            }
            guard let account = try await account(uid: stored.key.accountUID) else {
                logger.error("API key belongs to a missing account", metadata: ["apiKey": "\(stored.key.apiKey)"])
                removals.append(stored.key.apiKey)
                continue
            }
            upserts.append(
                CachedKey(key: stored.key, account: account, verifier: try verifier(for: stored), passphraseVerifier: stored.passphraseVerifier))
        }
        cache.apply(upserts: upserts, removals: removals, sequence: changes.latestSequence)
        cache.confirmFresh(at: started)
        logger.debug("key cache refreshed", metadata: ["changes": "\(changes.keys.count)", "sequence": "\(changes.latestSequence)"])
    }

    /// Returns once the cache reflects a store read that began after `arrival` (refreshing if needed).
    public func refresh(coveringArrivalAt arrival: ContinuousClock.Instant) async {
        if let started = lastRefreshStart {
            if started > arrival { return }
            let earliest = started + minimumMissInterval
            if earliest > .now { try? await Task.sleep(until: earliest) }
            // Another caller may have refreshed while this one slept.
            if let again = lastRefreshStart, again > arrival { return }
        }
        do {
            try await refresh()
            failures.succeeded()
        } catch {
            failures.failed(logger, "key cache refresh failed", error: error)
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let waiting = pollWaiters
            pollWaiters = []
            do {
                try await refresh()
                failures.succeeded()
            } catch {
                failures.failed(logger, "key cache refresh failed", error: error)
            }
            for waiter in waiting { waiter.resume() }
            try? await Task.sleep(for: interval)
        }
        for waiter in pollWaiters { waiter.resume() }
        pollWaiters = []
    }

    /// Returns when the next periodic poll — one that starts after this call — has finished (tests await the poll
    /// that picks up another process's change instead of sleeping).
    public func nextPoll() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in pollWaiters.append(continuation) }
    }

    private func verifier(for stored: StoredKey) throws(StoreError) -> RequestVerifier {
        switch stored.key.algorithm {
        case .hmac:
            return .hmac(OKXSigner(secret: try sealer.open(stored.sealedSecret, for: stored.key.apiKey)))
        case .ed25519:
            guard let publicKey = stored.publicKey, let verifier = try? Ed25519Verifier(publicKey: publicKey) else {
                throw StoreError.database("Ed25519 key \(stored.key.apiKey) has no usable public key")
            }
            return .ed25519(verifier)
        }
    }

    private func account(uid: String) async throws(StoreError) -> Account? {
        if let cached = accounts[uid] { return cached }
        let account = try await store.account(uid: uid)
        if let account { accounts[uid] = account }
        return account
    }
}
