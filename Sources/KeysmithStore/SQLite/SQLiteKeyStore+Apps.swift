import GRDB
import KeysmithCore

extension SQLiteKeyStore: AppStore {
    public func insert(app: App, audit: AuditRecord) async throws(StoreError) {
        let row = AppRow(app)
        try await database.write { db in
            if try AppRow.fetchOne(db, key: app.name) != nil { throw StoreError.duplicate("an app named \(app.name) already exists") }
            try row.insert(db)
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }

    public func app(named name: String) async throws(StoreError) -> App? {
        try await database.read { db in try AppRow.fetchOne(db, key: name) }?.app()
    }

    public func apps() async throws(StoreError) -> [App] {
        let rows = try await database.read { db in try AppRow.fetchAll(db, sql: "SELECT * FROM app ORDER BY name") }
        return try rows.map { row throws(StoreError) in try row.app() }
    }

    public func update(app: App, audit: AuditRecord) async throws(StoreError) -> [String] {
        let row = AppRow(app)
        return try await database.write { db in
            guard try AppRow.fetchOne(db, key: app.name) != nil else { throw StoreError.notFound("no app named \(app.name)") }
            try row.update(db)
            let linked = try String.fetchAll(
                db, sql: "SELECT api_key FROM api_key WHERE app = ? AND revoked_at IS NULL ORDER BY id", arguments: [app.name])
            for apiKey in linked {
                try db.execute(
                    sql: "UPDATE api_key SET ip_allowlist = ?, change_seq = ? WHERE api_key = ?",
                    arguments: [app.allowlist.okxString, try Self.nextSequence(db), apiKey])
            }
            var record = audit
            if !linked.isEmpty { record.details["keys"] = linked.joined(separator: ",") }
            try AuditLog.append([record], in: SQLTransaction(db))
            return linked
        }
    }

    public func removeApp(named name: String, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            let linked = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM api_key WHERE app = ? AND revoked_at IS NULL", arguments: [name]) ?? 0
            guard linked == 0 else {
                throw StoreError.limitReached("\(linked) active API keys are linked to app \(name): revoke or rotate them first")
            }
            guard try AppRow.deleteOne(db, key: name) else { throw StoreError.notFound("no app named \(name)") }
            try AuditLog.append([audit], in: SQLTransaction(db))
        }
    }
}

/// The `app` table's row.
struct AppRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "app"

    var name: String
    var ip_allowlist: String
    var url: String?
    var created_at: Int64

    init(_ app: App) {
        name = app.name
        ip_allowlist = app.allowlist.okxString
        url = app.url
        created_at = app.createdAt
    }

    func app() throws(StoreError) -> App {
        do {
            return try App(name: name, allowlist: try IPAllowlist(okx: ip_allowlist), url: url, createdAt: created_at)
        } catch {
            throw StoreError.database("app \(name) has an unreadable allowlist")
        }
    }
}
