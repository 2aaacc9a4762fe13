import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Records a warning 3 days and 1 day before a key expires, and an event when it has expired — once per key, kind
/// and expiry date (a key whose 14-days-unused expiry moves because it was used gets fresh warnings). Unlike OKX's
/// silent deletions, nobody is surprised. Scans the key cache, with each key's latest use, every `interval`.
public struct ExpiryWatcher: Service {
    public static let warnings: [(KeyEvent.Kind, Int64)] = [(.expiringIn1Day, 86_400_000), (.expiringIn3Days, 3 * 86_400_000)]

    private let cache: KeyCache
    private let usage: UsageRecorder
    private let events: any KeyEventStore
    private let clock: any WallClock
    private let interval: Duration
    private let logger: Logger

    public init(
        cache: KeyCache, usage: UsageRecorder, events: any KeyEventStore, clock: any WallClock, interval: Duration = .seconds(60),
        logger: Logger
    ) {
        self.cache = cache
        self.usage = usage
        self.events = events
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    /// Checks every cached key once; returns the events it recorded.
    @discardableResult
    public func scan() async -> [KeyEvent] {
        let now = clock.milliseconds
        var recorded: [KeyEvent] = []
        for cached in cache.allKeys {
            let key = cached.key
            guard key.revokedAt == nil, let expiry = key.expiry(lastUsedAt: usage.lastUse(key.apiKey)?.at) else { continue }
            let remaining = expiry.at - now
            // The most pressing threshold crossed; earlier ones missed while the server was down are not repeated.
            let kind = remaining <= 0 ? KeyEvent.Kind.expired : Self.warnings.first { remaining <= $0.1 }?.0
            guard let kind else { continue }
            let event = KeyEvent(apiKey: key.apiKey, kind: kind, expiresAt: expiry.at, reason: expiry.reason, at: now)
            do {
                let expired = kind == .expired
                let audit = AuditOrigin.system(expired ? "apikey.expired" : "apikey.expiring").record(
                    at: now, account: key.accountUID, target: key.apiKey,
                    details: ["expiresAt": OKXTimestamp.string(fromMilliseconds: expiry.at), "reason": expiry.reason.rawValue],
                    alert: expired ? .keyExpired : .keyExpiring)
                if try await events.record(event, audit: audit) {
                    recorded.append(event)
                    logger.notice(
                        "key expiry event",
                        metadata: ["apiKey": "\(key.apiKey)", "event": "\(kind.rawValue)", "expiresAt": "\(expiry.at)", "reason": "\(expiry.reason.rawValue)"])
                }
            } catch {
                logger.backgroundFailure("recording a key event failed", error: error)
            }
        }
        return recorded
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await scan()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
