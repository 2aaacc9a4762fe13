import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Drains the ``AuditQueue`` into the audit chain in batches (one transaction per batch, every `interval`, 50 ms by
/// default, so an event is stored within ~100 ms), and makes a signed checkpoint of the chain head every
/// `checkpointInterval` after verifying the events since the previous one. On graceful shutdown it writes what is
/// left and checkpoints once more.
public struct AuditWriter: Service {
    public static let batchSize = 5_000

    private let queue: AuditQueue
    private let store: any AuditStore
    private let checkpoints: AuditCheckpoints
    private let clock: any WallClock
    private let interval: Duration
    private let checkpointInterval: Int64
    private let logger: Logger
    private let failures = RetriedFailures()

    public init(
        queue: AuditQueue, store: any AuditStore, checkpoints: AuditCheckpoints, clock: any WallClock,
        interval: Duration = .milliseconds(50), checkpointInterval: Int64 = 60_000, logger: Logger
    ) {
        self.queue = queue
        self.store = store
        self.checkpoints = checkpoints
        self.clock = clock
        self.interval = interval
        self.checkpointInterval = checkpointInterval
        self.logger = logger
    }

    /// Writes everything queued; on a store error the batch goes back to the queue's front for the next round.
    public func flush() async {
        while true {
            let (records, firstUses) = queue.take(maximum: Self.batchSize)
            guard !records.isEmpty || !firstUses.isEmpty else { return }
            do {
                try await store.append(records, firstUses: firstUses, firstUseRecord: Self.firstUseRecord)
                queue.finished()
                failures.succeeded()
            } catch {
                queue.putBack(records, firstUses: firstUses)
                queue.finished()
                // A write cut short by shutdown is retried by the final flush, which runs uncancelled; one the
                // database refused for a moment by the next round.
                failures.failed(logger, "writing audit events failed; will retry", error: error, metadata: ["events": "\(records.count)"])
                return
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastCheckpoint = clock.milliseconds
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush()
                let now = clock.milliseconds
                if now - lastCheckpoint >= checkpointInterval {
                    lastCheckpoint = now
                    await checkpoints.make()
                }
            }
        }
        // In a task of its own: this one is cancelled by now, and a cancelled task's database write would be refused.
        await Task {
            await self.flush()
            await self.checkpoints.make()
        }.value
    }

    /// The event a key's first request from an address adds to the chain (and the alert it raises).
    @Sendable package static func firstUseRecord(_ use: KeyAddressUse) -> AuditRecord {
        AuditRecord(
            time: use.at, actor: use.apiKey, action: "apikey.first-use-from-ip", target: use.apiKey, clientIP: use.ip,
            alert: .keyNewIP)
    }
}
