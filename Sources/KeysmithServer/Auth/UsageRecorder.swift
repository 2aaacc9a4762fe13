import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Each key's latest use (time and client IP), kept in memory as requests authenticate and written to the store
/// in batches by ``UsageWriter`` — never a database write per request.
public final class UsageRecorder: Sendable {
    private struct Entry: Sendable {
        var at: Int64
        var ip: IPAddress?
        var written: Bool
    }

    private let entries = ShardedMap<String, Entry>(pruneThreshold: .max)

    public init() {}

    public func record(apiKey: String, ip: IPAddress?, at: Int64) {
        entries.withEntry(apiKey, isStale: { _ in false }) { entry in
            if let existing = entry, existing.at > at { return }
            entry = Entry(at: at, ip: ip, written: false)
        }
    }

    /// The latest use this process has seen, or nil.
    public func lastUse(_ apiKey: String) -> (at: Int64, ip: IPAddress?)? {
        entries.withEntry(apiKey, isStale: { _ in false }) { entry in entry.map { ($0.at, $0.ip) } }
    }

    /// Uses not yet written, marked as written.
    func takeUnwritten() -> [KeyUsage] {
        entries.gather { shard in
            var usage: [KeyUsage] = []
            for (apiKey, entry) in shard where !entry.written {
                usage.append(KeyUsage(apiKey: apiKey, at: entry.at, ip: entry.ip?.description))
                shard[apiKey]?.written = true
            }
            return usage
        }
    }

    /// Marks uses as unwritten again after a failed write (unless newer ones arrived meanwhile).
    func restore(_ usage: [KeyUsage]) {
        for use in usage {
            entries.withEntry(use.apiKey, isStale: { _ in false }) { entry in
                if entry?.at == use.at { entry?.written = false }
            }
        }
    }
}

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
