import Logging
import ServiceLifecycle

/// Reloads the maintenance windows every second, so a window scheduled or ended by the CLI (another process) or
/// another node stops or resumes trading here within that second.
public struct MaintenanceWatcher: Service {
    private let maintenance: MaintenanceService
    private let interval: Duration
    private let logger: Logger

    public init(maintenance: MaintenanceService, interval: Duration = .seconds(1), logger: Logger) {
        self.maintenance = maintenance
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                try await maintenance.refresh()
            } catch {
                logger.backgroundFailure("reading maintenance windows failed", error: error)
            }
        }
    }
}
