import KeysmithCore
import KeysmithStore
import Logging

/// The third-party app registry. Updating an app's addresses re-binds every active key linked to it at once.
///
/// ```swift
/// let app = try await apps.add(name: "3commas", allowlist: IPAllowlist(okx: "203.0.113.0/28"), url: nil, origin: origin)
/// let rebound = try await apps.update(name: "3commas", allowlist: IPAllowlist(okx: "198.51.100.0/28"), url: nil,
///                                   origin: origin).rebound
/// ```
public struct AppService: Sendable {
    private let store: any AppStore
    private let clock: any WallClock
    private let logger: Logger
    private let onChange: @Sendable () async -> Void

    public init(store: any AppStore, clock: any WallClock, logger: Logger, onChange: @escaping @Sendable () async -> Void = {}) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.onChange = onChange
    }

    public func add(name: String, allowlist: IPAllowlist, url: String?, origin: AuditOrigin) async throws(OKXError) -> App {
        let app = try App(name: name, allowlist: allowlist, url: url, createdAt: clock.milliseconds)
        let audit = origin.record(at: app.createdAt, account: "", target: name, details: ["ip": allowlist.okxString])
        try await appWrite { () async throws(StoreError) in try await store.insert(app: app, audit: audit) }
        return app
    }

    public func apps() async throws(OKXError) -> [App] {
        try await mapped { () async throws(StoreError) in try await store.apps() }
    }

    /// The named app, or 51000 naming it.
    public func app(named name: String) async throws(OKXError) -> App {
        guard let app = try await mapped({ () async throws(StoreError) in try await store.app(named: name) }) else {
            throw OKXError.parameterError("app").with(message: "Parameter app error: no app named \(name) (see `keysmith app list`)")
        }
        return app
    }

    /// Changes an app's addresses and/or URL; every active key linked to it takes the new allowlist in the same
    /// transaction (and in the running server at once).
    public func update(name: String, allowlist: IPAllowlist?, url: String?, origin: AuditOrigin) async throws(OKXError) -> (app: App, rebound: [String]) {
        let current = try await app(named: name)
        let updated = try App(name: name, allowlist: allowlist ?? current.allowlist, url: url ?? current.url, createdAt: current.createdAt)
        // Re-binding changes linked keys' allowlists: their owners hear of it as a key modification.
        let audit = origin.record(
            at: clock.milliseconds, account: "", target: name, details: ["ip": updated.allowlist.okxString], alert: .keyModified)
        let rebound = try await appWrite { () async throws(StoreError) in try await store.update(app: updated, audit: audit) }
        logger.notice(
            "app addresses changed; linked keys re-bound",
            metadata: ["app": "\(name)", "ip": "\(updated.allowlist.okxString)", "keys": "\(rebound.joined(separator: ","))"])
        await onChange()
        return (updated, rebound)
    }

    public func remove(name: String, origin: AuditOrigin) async throws(OKXError) {
        let audit = origin.record(at: clock.milliseconds, account: "", target: name)
        try await appWrite { () async throws(StoreError) in try await store.removeApp(named: name, audit: audit) }
    }

    private func appWrite<T>(_ body: () async throws(StoreError) -> T) async throws(OKXError) -> T {
        try await mapped(body)
    }
}
