import KeysmithCore
import Logging
import ServiceLifecycle

/// Applies cooled-down key changes (withdraw added, IPs widened) when they fall due: at start, then every `interval`.
public struct PendingChangeApplier: Service {
    private let keys: KeyService
    private let interval: Duration
    private let logger: Logger

    public init(keys: KeyService, interval: Duration = .seconds(10), logger: Logger) {
        self.keys = keys
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                let applied = try await keys.applyDueChanges()
                if !applied.isEmpty {
                    logger.notice("cooled-down key changes applied", metadata: ["keys": "\(applied.joined(separator: ","))"])
                }
            } catch {
                logger.backgroundFailure("applying pending key changes failed", error: error)
            }
        }
    }
}
