import Foundation
import KeysmithCore
import KeysmithStore

/// Maintenance windows: the operator schedules, cancels and ends them (`keysmith maintenance`), `system/status`
/// lists them, and trading endpoints answer 50001 while one of the trading service is ongoing. Requests read a
/// snapshot held in memory, which ``SettingsWatcher`` refreshes every second (windows written by another
/// process — the CLI — reach a serving node within that second) and this node's own changes refresh at once.
public final class MaintenanceService: Sendable {
    private let store: any MaintenanceStore
    private let clock: any WallClock
    private let snapshot = ReloadedSnapshot<[MaintenanceWindow]>([])

    public init(store: any MaintenanceStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Schedules a window from `begin` to `end` (milliseconds) of OKX service type `serviceType`.
    public func schedule(
        title: String, begin: Int64, end: Int64, serviceType: String = MaintenanceWindow.tradingService, origin: AuditOrigin
    ) async throws(OKXError) -> MaintenanceWindow {
        let title = title.trimmingCharacters(in: .whitespaces)
        guard !title.isEmpty, title.count <= 200 else {
            throw OKXError.parameterError("title").with(message: "Parameter title error: 1 to 200 characters")
        }
        guard end > begin else { throw OKXError.parameterError("end").with(message: "Parameter end error: the window must end after it begins") }
        guard MaintenanceWindow.serviceTypes.contains(serviceType) else {
            throw OKXError.parameterError("serviceType").with(
                message: "Parameter serviceType error: one of \(MaintenanceWindow.serviceTypes.sorted { Int($0)! < Int($1)! }.joined(separator: ", "))")
        }
        let now = clock.milliseconds
        let window = MaintenanceWindow(title: title, begin: begin, end: end, serviceType: serviceType, createdAt: now)
        let audit = origin.record(
            at: now, account: "", target: "", details: ["title": title, "begin": String(begin), "end": String(end), "serviceType": serviceType])
        let saved = try await mapped { () async throws(StoreError) in try await store.insert(window, audit: audit) }
        try await refresh()
        return saved
    }

    /// Cancels a window that has not begun, or ends an ongoing one now.
    public func close(id: Int64, origin: AuditOrigin) async throws(OKXError) -> MaintenanceWindow {
        let now = clock.milliseconds
        let audit = origin.record(at: now, account: "", target: String(id))
        let closed = try await mapped { () async throws(StoreError) in try await store.close(windowID: id, at: now, audit: audit) }
        try await refresh()
        return closed
    }

    /// Every window, newest first, from the store.
    public func windows() async throws(OKXError) -> [MaintenanceWindow] {
        try await mapped { () async throws(StoreError) in try await store.maintenanceWindows() }
    }

    /// Reloads the snapshot from the store.
    public func refresh() async throws(OKXError) {
        try await snapshot.reload { () async throws(OKXError) in try await self.windows() }
    }

    /// The windows as last loaded, newest first.
    public var current: [MaintenanceWindow] { snapshot.value }

    /// 50001 while a window of the trading service is ongoing.
    public func checkTrading() throws(OKXError) {
        let now = clock.milliseconds
        guard let window = current.first(where: { $0.stopsTrading(at: now) }) else { return }
        throw OKXError.serviceUnavailable.with(
            message: "Service temporarily unavailable. Please try again later. Maintenance \"\(window.title)\" until \(window.actualEnd) ms.")
    }
}
