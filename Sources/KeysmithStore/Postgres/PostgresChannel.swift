import PostgresNIO

/// One PostgreSQL notification channel (`LISTEN`/`NOTIFY`) between the nodes of a shared database: a notification
/// sent outside a transaction is delivered to every listening session once it committed, in commit order, with a
/// text payload of less than 8,000 bytes.
public struct PostgresChannel: Sendable {
    public static let payloadLimit = 7_999

    let database: PostgresDatabase
    public let name: String

    public init(database: PostgresDatabase, name: String) {
        self.database = database
        self.name = name
    }

    /// Sends `payload` to every listener (this session's own included).
    public func notify(_ payload: String) async throws(StoreError) {
        let name = self.name
        try await database.read { connection, logger in
            try await connection.query("SELECT pg_notify(\(name), \(payload))", logger: logger)
        }
    }

    /// Listens on a connection of its own until it fails or the task is cancelled: `onListening` once the session
    /// listens (what was sent before is not delivered), then `onMessage` for each payload, in order.
    public func follow(
        onListening: @escaping @Sendable () async -> Void = {}, _ onMessage: @escaping @Sendable (String) async -> Void
    ) async throws(StoreError) {
        do {
            try await database.client.withConnection { connection in
                try await connection.listen(on: name) { notifications in
                    await onListening()
                    for try await notification in notifications { await onMessage(notification.payload) }
                }
            }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }
}
