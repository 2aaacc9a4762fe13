import Foundation
import KeysmithCore

extension SQLKeyStore: AppStore {
    public func insert(app: App, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            let inserted = try tx.execute(
                """
                INSERT INTO app (name, ip_allowlist, url, created_at)
                VALUES (\(app.name), \(app.allowlist.okxString), \(app.url), \(app.createdAt))
                ON CONFLICT (name) DO NOTHING
                """)
            guard inserted == 1 else { throw StoreError.duplicate(.app, "an app named \(app.name) already exists") }
            try AuditLog.append([audit], in: tx)
        }
    }

    public func app(named name: String) async throws(StoreError) -> App? {
        try await database.fetchOne("SELECT * FROM app WHERE name = \(name)", Self.app)
    }

    public func apps() async throws(StoreError) -> [App] {
        try await database.fetchAll("SELECT * FROM app ORDER BY name", Self.app)
    }

    public func update(app: App, audit: AuditRecord) async throws(StoreError) -> [String] {
        try await database.write { tx throws(StoreError) in
            let updated = try tx.execute(
                "UPDATE app SET ip_allowlist = \(app.allowlist.okxString), url = \(app.url) WHERE name = \(app.name)")
            guard updated == 1 else { throw StoreError.notFound(.app, "no app named \(app.name)") }
            let linked = try tx.fetchAll(
                "SELECT api_key FROM api_key WHERE app = \(app.name) AND revoked_at IS NULL ORDER BY id"
            ) { row throws(StoreError) in try row(at: 0, as: String.self) }
            for apiKey in linked {
                let sequence = try Self.nextSequence(tx)
                try tx.execute(
                    "UPDATE api_key SET ip_allowlist = \(app.allowlist.okxString), change_seq = \(sequence) WHERE api_key = \(apiKey)")
            }
            var record = audit
            if !linked.isEmpty { record.details["keys"] = linked.joined(separator: ",") }
            try AuditLog.append([record], in: tx)
            return linked
        }
    }

    public func removeApp(named name: String, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            let linked = try tx.value("SELECT COUNT(*) FROM api_key WHERE app = \(name) AND revoked_at IS NULL", as: Int.self) ?? 0
            guard linked == 0 else {
                throw StoreError.limitReached(.linkedKeys, "\(linked) active API keys are linked to app \(name): revoke or rotate them first")
            }
            guard try tx.execute("DELETE FROM app WHERE name = \(name)") == 1 else { throw StoreError.notFound(.app, "no app named \(name)") }
            try AuditLog.append([audit], in: tx)
        }
    }

    static func app(_ row: SQLRow) throws(StoreError) -> App {
        let name: String = try row("name")
        do {
            return try App(
                name: name, allowlist: try IPAllowlist(okx: try row("ip_allowlist")), url: try row("url"), createdAt: try row("created_at"))
        } catch {
            throw StoreError.database("app \(name) has an unreadable allowlist")
        }
    }
}

extension SQLKeyStore: KeyEventStore {
    public func record(_ event: KeyEvent, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            let recorded =
                try tx.execute(
                    """
                    INSERT INTO key_event (api_key, kind, expires_at, reason, at)
                    VALUES (\(event.apiKey), \(event.kind.rawValue), \(event.expiresAt), \(event.reason.rawValue), \(event.at))
                    ON CONFLICT (api_key, kind, expires_at) DO NOTHING
                    """) == 1
            if recorded { try AuditLog.append([audit], in: tx) }
            return recorded
        }
    }

    public func keyEvents(apiKey: String?) async throws(StoreError) -> [KeyEvent] {
        try await database.fetchAll(
            "SELECT * FROM key_event WHERE CAST(\(apiKey) AS TEXT) IS NULL OR api_key = \(apiKey) ORDER BY id"
        ) { row throws(StoreError) in
            let apiKey: String = try row("api_key")
            guard let kind = KeyEvent.Kind(rawValue: try row("kind")), let reason = ExpiryReason(rawValue: try row("reason")) else {
                throw StoreError.database("unreadable key event for \(apiKey)")
            }
            return KeyEvent(apiKey: apiKey, kind: kind, expiresAt: try row("expires_at"), reason: reason, at: try row("at"))
        }
    }
}
