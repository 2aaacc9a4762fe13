import Foundation
import KeysmithCore
import Logging
import ServiceLifecycle

/// Archives events older than `retention` every hour (`keysmith serve --audit-retention`).
public struct AuditRetention: Service {
    private let archiver: AuditArchiver
    private let retention: Int64
    private let clock: any WallClock
    private let logger: Logger

    public init(archiver: AuditArchiver, retention: Int64, clock: any WallClock, logger: Logger) {
        self.archiver = archiver
        self.retention = retention
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if let archived = try await archiver.archive(before: clock.milliseconds - retention) {
                        logger.notice(
                            "archived old audit events",
                            metadata: ["file": "\(archived.file)", "events": "\(archived.events)", "through": "\(archived.last)"])
                    }
                } catch {
                    logger.backgroundFailure("archiving audit events failed", error: error)
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
