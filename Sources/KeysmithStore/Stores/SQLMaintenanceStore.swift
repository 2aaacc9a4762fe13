import KeysmithCore

/// ``MaintenanceStore`` on either database.
public struct SQLMaintenanceStore: MaintenanceStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func insert(_ window: MaintenanceWindow, audit: AuditRecord) async throws(StoreError) -> MaintenanceWindow {
        try await database.write { tx throws(StoreError) in
            var saved = window
            saved.id = try SQLLedgerStore.insert(
                """
                INSERT INTO maintenance_window (title, begin_at, end_at, service_type, created_at)
                VALUES (\(window.title), \(window.begin), \(window.end), \(window.serviceType), \(window.createdAt)) RETURNING id
                """, in: tx)
            var record = audit
            record.target = String(saved.id)
            try AuditLog.append([record], in: tx)
            return saved
        }
    }

    public func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] {
        try await database.fetchAll("SELECT * FROM maintenance_window ORDER BY id DESC", Self.window)
    }

    public func close(windowID: Int64, at time: Int64, audit: AuditRecord) async throws(StoreError) -> MaintenanceWindow {
        try await database.write { tx throws(StoreError) in
            // Before it begins a window is cancelled; once it runs it is ended (completed) now.
            let changed = try tx.execute(
                """
                UPDATE maintenance_window SET
                    canceled_at = CASE WHEN begin_at > \(time) THEN \(time) ELSE canceled_at END,
                    completed_at = CASE WHEN begin_at <= \(time) THEN \(time) ELSE completed_at END
                WHERE id = \(windowID) AND canceled_at IS NULL AND completed_at IS NULL AND end_at > \(time)
                """)
            guard changed == 1,
                let window = try tx.fetchOne("SELECT * FROM maintenance_window WHERE id = \(windowID)", Self.window)
            else { throw StoreError.notFound(.maintenanceWindow, "no scheduled or ongoing maintenance window \(windowID)") }
            try AuditLog.append([audit], in: tx)
            return window
        }
    }

    static func window(_ row: SQLRow) throws(StoreError) -> MaintenanceWindow {
        MaintenanceWindow(
            id: try row("id"), title: try row("title"), begin: try row("begin_at"), end: try row("end_at"),
            serviceType: try row("service_type"), canceledAt: try row("canceled_at"), completedAt: try row("completed_at"),
            createdAt: try row("created_at"))
    }
}
