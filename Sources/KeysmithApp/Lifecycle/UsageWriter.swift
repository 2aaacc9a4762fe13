import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Writes recorded key uses to the store every `interval` (1 s by default) and once more on graceful shutdown.
public struct UsageWriter: Service {
    private let recorder: UsageRecorder
    private let store: any KeyStore
    private let interval: Duration
    private let logger: Logger

    public init(recorder: UsageRecorder, store: any KeyStore, interval: Duration = .seconds(1), logger: Logger) {
        self.recorder = recorder
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Writes everything not yet written, in one transaction.
    public func flush() async {
        let usage = recorder.takeUnwritten()
        guard !usage.isEmpty else { return }
        do {
            try await store.recordUsage(usage)
        } catch {
            recorder.restore(usage)
            // A write cut short by shutdown is retried by the final flush, which runs uncancelled.
            logger.backgroundFailure("writing key usage failed", error: error, metadata: ["keys": "\(usage.count)"])
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush()
            }
        }
        // The last flush of a graceful shutdown runs in a task of its own: this one is cancelled by now, and a
        // cancelled task's database write would be refused (and the last uses lost).
        await Task { await self.flush() }.value
    }
}
