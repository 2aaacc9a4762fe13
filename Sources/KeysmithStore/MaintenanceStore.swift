import KeysmithCore

/// The operator's maintenance windows; each change commits with its audit event.
public protocol MaintenanceStore: Sendable {
    /// Saves a new window (id 0: assigned here) and returns it.
    func insert(_ window: MaintenanceWindow, audit: AuditRecord) async throws(StoreError) -> MaintenanceWindow
    /// Every window, newest first.
    func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow]
    /// Cancels a window that has not begun (`.notFound` when none such), or ends an ongoing one now.
    func close(windowID: Int64, at time: Int64, audit: AuditRecord) async throws(StoreError) -> MaintenanceWindow
}
