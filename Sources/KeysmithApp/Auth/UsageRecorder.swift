import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// Each key's latest use (time and client IP), kept in memory as requests authenticate and written to the store
/// in batches by ``UsageWriter`` — never a database write per request.
public final class UsageRecorder: Sendable {
    private struct Entry: Sendable {
        package var at: Int64
        package var ip: IPAddress?
        package var written: Bool
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
    package func takeUnwritten() -> [KeyUsage] {
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
    package func restore(_ usage: [KeyUsage]) {
        for use in usage {
            entries.withEntry(use.apiKey, isStale: { _ in false }) { entry in
                if entry?.at == use.at { entry?.written = false }
            }
        }
    }
}
