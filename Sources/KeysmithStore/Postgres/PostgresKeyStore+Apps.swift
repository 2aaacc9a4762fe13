import KeysmithCore
import PostgresNIO

extension PostgresKeyStore: AppStore {
    public func insert(app: App, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            let inserted = try await connection.query(
                """
                INSERT INTO app (name, ip_allowlist, url, created_at)
                VALUES (\(app.name), \(app.allowlist.okxString), \(app.url), \(app.createdAt))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger
            ).collect(String.self)
            guard !inserted.isEmpty else { throw StoreError.duplicate("an app named \(app.name) already exists") }
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func app(named name: String) async throws(StoreError) -> App? {
        try await apps("SELECT * FROM app WHERE name = \(name)").first
    }

    public func apps() async throws(StoreError) -> [App] {
        try await apps("SELECT * FROM app ORDER BY name")
    }

    public func update(app: App, audit: AuditRecord) async throws(StoreError) -> [String] {
        try await database.write { connection, logger in
            let updated = try await connection.query(
                "UPDATE app SET ip_allowlist = \(app.allowlist.okxString), url = \(app.url) WHERE name = \(app.name) RETURNING name",
                logger: logger
            ).collect(String.self)
            guard !updated.isEmpty else { throw StoreError.notFound("no app named \(app.name)") }
            let linked = try await connection.query(
                "SELECT api_key FROM api_key WHERE app = \(app.name) AND revoked_at IS NULL ORDER BY id", logger: logger
            ).collect(String.self)
            for apiKey in linked {
                let sequence = try await Self.nextSequence(connection, logger)
                try await connection.query(
                    "UPDATE api_key SET ip_allowlist = \(app.allowlist.okxString), change_seq = \(sequence) WHERE api_key = \(apiKey)",
                    logger: logger)
            }
            var record = audit
            if !linked.isEmpty { record.details["keys"] = linked.joined(separator: ",") }
            try await PostgresAuditLog.append([record], on: connection, logger)
            return linked
        }
    }

    public func removeApp(named name: String, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            let linked = try await connection.query(
                "SELECT COUNT(*) FROM api_key WHERE app = \(name) AND revoked_at IS NULL", logger: logger
            ).collect(Int64.self).first ?? 0
            guard linked == 0 else {
                throw StoreError.limitReached("\(linked) active API keys are linked to app \(name): revoke or rotate them first")
            }
            let removed = try await connection.query("DELETE FROM app WHERE name = \(name) RETURNING name", logger: logger)
                .collect(String.self)
            guard !removed.isEmpty else { throw StoreError.notFound("no app named \(name)") }
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    private func apps(_ query: PostgresQuery) async throws(StoreError) -> [App] {
        let rows = try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map { row in
                (try row("name", as: String.self), try row("ip_allowlist", as: String.self), try row("url", as: String?.self),
                 try row("created_at", as: Int64.self))
            }
        }
        return try rows.map { row throws(StoreError) in
            do {
                return try App(name: row.0, allowlist: try IPAllowlist(okx: row.1), url: row.2, createdAt: row.3)
            } catch {
                throw StoreError.database("app \(row.0) has an unreadable allowlist")
            }
        }
    }
}

extension PostgresKeyStore: KeyEventStore {
    public func record(_ event: KeyEvent, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            let recorded = try await connection.query(
                """
                INSERT INTO key_event (api_key, kind, expires_at, reason, at)
                VALUES (\(event.apiKey), \(event.kind.rawValue), \(event.expiresAt), \(event.reason.rawValue), \(event.at))
                ON CONFLICT (api_key, kind, expires_at) DO NOTHING RETURNING id
                """, logger: logger
            ).collect(Int64.self)
            if !recorded.isEmpty { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return !recorded.isEmpty
        }
    }

    public func keyEvents(apiKey: String?) async throws(StoreError) -> [KeyEvent] {
        let rows = try await database.read { connection, logger in
            try await connection.query(
                "SELECT * FROM key_event WHERE \(apiKey)::TEXT IS NULL OR api_key = \(apiKey) ORDER BY id", logger: logger
            ).rows().map { row in
                (try row("api_key", as: String.self), try row("kind", as: String.self), try row("expires_at", as: Int64.self),
                 try row("reason", as: String.self), try row("at", as: Int64.self))
            }
        }
        return try rows.map { row throws(StoreError) in
            guard let kind = KeyEvent.Kind(rawValue: row.1), let reason = ExpiryReason(rawValue: row.3) else {
                throw StoreError.database("unreadable key event for \(row.0)")
            }
            return KeyEvent(apiKey: row.0, kind: kind, expiresAt: row.2, reason: reason, at: row.4)
        }
    }
}

extension PostgresKeyStore {
    static func setPending(_ change: PendingKeyChange, on connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO pending_key_change (api_key, permissions, ip_allowlist, requested_at, effective_at)
            VALUES (\(change.apiKey), \(change.permissions.okxString), \(change.allowlist.okxString), \(change.requestedAt),
            \(change.effectiveAt))
            ON CONFLICT (api_key) DO UPDATE SET permissions = EXCLUDED.permissions, ip_allowlist = EXCLUDED.ip_allowlist,
            requested_at = EXCLUDED.requested_at, effective_at = EXCLUDED.effective_at
            """, logger: logger)
    }

    public func pending(apiKey: String) async throws(StoreError) -> PendingKeyChange? {
        try await fetchPending("SELECT * FROM pending_key_change WHERE api_key = \(apiKey)").first
    }

    public func allPending() async throws(StoreError) -> [PendingKeyChange] {
        try await fetchPending("SELECT * FROM pending_key_change ORDER BY effective_at")
    }

    public func cancelPending(apiKey: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            let cancelled = try await connection.query(
                "DELETE FROM pending_key_change WHERE api_key = \(apiKey) RETURNING api_key", logger: logger
            ).collect(String.self)
            if !cancelled.isEmpty { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return !cancelled.isEmpty
        }
    }

    public func applyPending(dueAt now: Int64, audit: @escaping @Sendable (String) -> AuditRecord) async throws(StoreError) -> [String] {
        try await database.write { connection, logger in
            let due = try await connection.query(
                "SELECT api_key, permissions, ip_allowlist FROM pending_key_change WHERE effective_at <= \(now) ORDER BY api_key",
                logger: logger
            ).rows().map { row in
                (try row("api_key", as: String.self), try row("permissions", as: String.self), try row("ip_allowlist", as: String.self))
            }
            var applied: [String] = []
            for (apiKey, permissions, allowlist) in due {
                let sequence = try await Self.nextSequence(connection, logger)
                let updated = try await connection.query(
                    """
                    UPDATE api_key SET permissions = \(permissions), ip_allowlist = \(allowlist), change_seq = \(sequence)
                    WHERE api_key = \(apiKey) AND revoked_at IS NULL RETURNING api_key
                    """, logger: logger
                ).collect(String.self)
                if !updated.isEmpty {
                    applied.append(apiKey)
                    try await PostgresAuditLog.append([audit(apiKey)], on: connection, logger)
                }
                try await connection.query("DELETE FROM pending_key_change WHERE api_key = \(apiKey)", logger: logger)
            }
            return applied
        }
    }

    private func fetchPending(_ query: PostgresQuery) async throws(StoreError) -> [PendingKeyChange] {
        let rows = try await database.read { connection, logger in
            try await connection.query(query, logger: logger).rows().map { row in
                (try row("api_key", as: String.self), try row("permissions", as: String.self), try row("ip_allowlist", as: String.self),
                 try row("requested_at", as: Int64.self), try row("effective_at", as: Int64.self))
            }
        }
        return try rows.map { row throws(StoreError) in
            try PendingKeyChange.decode(apiKey: row.0, permissions: row.1, allowlist: row.2, requestedAt: row.3, effectiveAt: row.4)
        }
    }
}
