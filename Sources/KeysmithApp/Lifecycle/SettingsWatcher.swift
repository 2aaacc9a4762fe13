import Logging
import ServiceLifecycle

/// Reloads the operator's settings that requests read from memory — maintenance windows, the fee schedule and pinned mark prices —
/// every second, so a change made by the CLI (another process) or another node applies here within that second.
public struct SettingsWatcher: Service {
    private let maintenance: MaintenanceService
    private let fees: FeeService
    private let marks: MarkPriceService
    private let interval: Duration
    private let logger: Logger

    public init(
        maintenance: MaintenanceService, fees: FeeService, marks: MarkPriceService, interval: Duration = .seconds(1), logger: Logger
    ) {
        self.maintenance = maintenance
        self.fees = fees
        self.marks = marks
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
            do {
                try await fees.refresh()
            } catch {
                logger.backgroundFailure("reading the fee schedule failed", error: error)
            }
            do {
                try await marks.refresh()
            } catch {
                logger.backgroundFailure("reading pinned mark prices failed", error: error)
            }
        }
    }
}
