import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// The composition root: the OKX v5 routes, their middleware, and the key-cache service, on one Hummingbird
/// application. The key cache is fully loaded before the server accepts a request.
///
/// ```swift
/// let app = try await buildApplication(installation, configuration: ServerConfiguration(port: 8080), logger: logger)
/// try await app.runService()   // stops gracefully on SIGTERM / SIGINT
/// ```
public func buildApplication(
    _ installation: Installation, console: ConsoleAuth? = nil, configuration: ServerConfiguration, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    try await installation.cacheLoader.refresh()
    try await installation.maintenance.refresh()
    let tls = try configuration.tls?.context()
    let authenticator = installation.authenticator(lockout: configuration.failedAuthLockout)
    let hub = PushHub(installation: installation, subscriptionLimit: configuration.webSocket.subscriptions, logger: logger)
    let sharedLimits = installation.sharedRateBudget.map { SharedRateLimiter(budget: $0) }
    let router = try makeRouter(
        installation, console: console, configuration: configuration, authenticator: authenticator, sharedLimits: sharedLimits,
        webSocketConnections: { await hub.connectionsByKey() })
    var services = installation.lifecycleServices(
        auditCheckpointInterval: configuration.auditCheckpointInterval, alertDelivery: configuration.alertDelivery,
        auditRetention: configuration.auditRetention, swapScheduler: configuration.swapScheduler, logger: logger)
    services.append(
        PushService(
            hub: hub, events: installation.tradingEvents, silence: configuration.webSocket.silence, cache: installation.cache,
            usage: installation.usage, clock: installation.clock))
    let gateway = WebSocketGateway(
        hub: hub, authenticator: authenticator, resolver: ClientAddressResolver(trustedProxies: configuration.trustedProxies),
        auditQueue: installation.auditQueue, cacheLoader: installation.cacheLoader, clock: installation.clock,
        limits: configuration.webSocket, operations: TradeOperations(engine: installation.engine, clock: installation.clock),
        maintenance: installation.maintenance, orders: installation.orders, logger: logger,
        freshnessBound: installation.postgres == nil ? nil : configuration.cacheFreshnessBound, sharedLimits: sharedLimits)
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in
            GuardedChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: .init(
                        http1: http1Configuration(configuration),
                        ws: WebSocketServerConfiguration(maxFrameSize: configuration.webSocket.messageSize, autoPing: .disabled)),
                    shouldUpgrade: { request, channel, logger in gateway.shouldUpgrade(request, channel: channel, logger: logger) }),
                requestReadTimeout: configuration.requestReadTimeout, tls: tls)
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "keysmith"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// HTTP/1.1 connections with an idle timeout between requests (``GuardedChildChannel`` adds the deadline for each
/// request's head to arrive).
func http1Configuration(_ configuration: ServerConfiguration) -> HTTP1Channel.Configuration {
    let idle = configuration.idleTimeout.components
    let (idleNanoseconds, overflow) = idle.seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return HTTP1Channel.Configuration(idleTimeout: .nanoseconds(overflow ? .max : idleNanoseconds + idle.attoseconds / 1_000_000_000))
}

/// The router alone (tests and benchmarks drive it directly).
public func buildRouter(
    _ installation: Installation, console: ConsoleAuth? = nil, configuration: ServerConfiguration,
    authenticator shared: RequestAuthenticator? = nil
) throws -> Router<AppRequestContext> {
    try makeRouter(installation, console: console, configuration: configuration, authenticator: shared)
}

/// The router, sharing the cross-node rate limiter with the WebSocket gateway and showing its connections per key
/// on the console.
func makeRouter(
    _ installation: Installation, console: ConsoleAuth?, configuration: ServerConfiguration, authenticator shared: RequestAuthenticator?,
    sharedLimits: SharedRateLimiter? = nil, webSocketConnections: @escaping @Sendable () async -> [String: Int] = { [:] }
) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let auditor =
        configuration.auditRequests
        ? RequestAuditor(
            queue: installation.auditQueue, hasher: installation.auditHasher,
            bursts: AuthFailureBursts(policy: configuration.authFailureBursts), cache: installation.cache, clock: installation.clock)
        : nil
    router.add(middleware: OKXErrorMiddleware(auditor: auditor, clock: installation.clock))
    router.add(middleware: ClientAddressMiddleware(resolver: ClientAddressResolver(trustedProxies: configuration.trustedProxies)))

    HealthRoutes(
        cache: installation.cache, postgres: installation.postgres, freshnessBound: configuration.cacheFreshnessBound
    ).register(on: router)

    var api = router.group("api/v5")
    if let limit = configuration.publicRateLimit {
        api = api.add(middleware: PublicRateLimitMiddleware(limit: limit, limiter: RateLimiter(), clock: installation.clock))
    }
    PublicRoutes(clock: installation.clock, ledger: installation.ledger).register(on: api)
    SystemRoutes(maintenance: installation.maintenance, clock: installation.clock).register(on: api)
    MarketRoutes(engine: installation.engine, orders: installation.orders, clock: installation.clock).register(on: api)

    let authenticator = shared ?? installation.authenticator(lockout: configuration.failedAuthLockout)
    let sharedLimits = sharedLimits ?? installation.sharedRateBudget.map { SharedRateLimiter(budget: $0) }
    func guarded(_ permission: Permissions) -> RouterGroup<AppRequestContext> {
        router.group("api/v5").add(
            middleware: OKXAuthMiddleware(
                requiring: permission, authenticator: authenticator, cacheLoader: installation.cacheLoader,
                clock: installation.clock,
                maximumBodySize: configuration.maximumBodySize,
                freshnessBound: installation.postgres == nil ? nil : configuration.cacheFreshnessBound,
                sharedReplay: installation.sharedReplay, sharedLimits: sharedLimits))
    }
    let read = guarded(.readOnly)
    let trade = guarded(.trade)
    let accountRoutes = AccountRoutes(clock: installation.clock, ledger: installation.ledger, engine: installation.engine, marks: installation.marks)
    accountRoutes.register(read: read)
    BillRoutes(clock: installation.clock, ledger: installation.ledger, fees: installation.fees, engine: installation.engine)
        .register(read: read)
    FundingRoutes(
        ledger: installation.ledger, accounts: installation.accounts, balances: accountRoutes, withdrawals: installation.withdrawals
    ).register(read: read, trade: trade, withdraw: guarded(.withdraw))
    TradeRoutes(engine: installation.engine, orders: installation.orders, maintenance: installation.maintenance, clock: installation.clock).register(read: read, trade: trade)
    SelfRoutes(usage: installation.usage).register(read: read)
    SubAccountRoutes(accounts: installation.accounts, keys: installation.keys).register(read: read, trade: trade)
    SwapRoutes(
        accounts: installation.accounts, leverage: installation.leverage, engine: installation.engine, marks: installation.marks,
        funding: installation.funding, clock: installation.clock)
        .register(public: api, read: read, trade: trade)
    PositionRoutes(engine: installation.engine, marks: installation.marks, clock: installation.clock).register(read: read)
    try consoleRoutes(
        installation, auth: console ?? ConsoleAuth(installation), configuration: configuration, webSocketConnections: webSocketConnections
    ).register(on: router)
    return router
}

/// The console's pages, each group handed only the services it uses.
func consoleRoutes(
    _ installation: Installation, auth: ConsoleAuth, configuration: ServerConfiguration,
    webSocketConnections: @escaping @Sendable () async -> [String: Int] = { [:] }
) throws -> ConsoleRoutes {
    let shell = ConsoleShell(
        auth: auth, pages: try ConsolePages(), sessions: installation.consoleStore, clock: installation.clock,
        formKey: installation.consoleFormKey, secureCookies: configuration.secureCookies, signInLimit: configuration.consoleSignIn)
    return ConsoleRoutes(
        shell: shell,
        controllers: [
            ConsoleSignInPages(shell: shell),
            ConsoleAccountPages(
                shell: shell, accounts: installation.accounts, ledger: installation.ledger, keys: installation.keys,
                auditStore: installation.auditStore),
            ConsoleKeyPages(
                shell: shell, keys: installation.keys, accounts: installation.accounts, apps: installation.apps, usage: installation.usage,
                webSocketConnections: webSocketConnections),
            ConsoleAppPages(shell: shell, apps: installation.apps),
            ConsoleWithdrawalPages(
                shell: shell, accounts: installation.accounts, withdrawals: installation.withdrawals, ledger: installation.ledger),
            ConsoleAuditPages(shell: shell, auditStore: installation.auditStore),
            ConsoleAlertPages(shell: shell, alertSinks: installation.alertSinks),
            ConsoleSwapPages(
                shell: shell, engine: installation.engine, marks: installation.marks, funding: installation.funding,
                accounts: installation.accounts, clock: installation.clock),
        ])
}
