import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import ServiceLifecycle

/// An opened Keysmith data folder: the database, the master key, and the services built on them. The CLI opens
/// one for every command; `serve` hands it to ``buildApplication(_:configuration:logger:)``.
///
/// ```swift
/// let installation = try await Installation.open(dataDirectory: URL(filePath: "./keysmith-data"), masterKey: nil, logger: logger)
/// let first = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: origin)
/// ```
public struct Installation: Sendable {
    public let dataDirectory: URL
    /// The embedded database, when the installation runs on SQLite.
    public let database: SQLiteDatabase?
    /// The shared database, when the installation is one node of many on PostgreSQL.
    public let postgres: PostgresDatabase?
    /// Replay protection across nodes (PostgreSQL only; one node's own guard suffices on SQLite).
    public var sharedReplay: (any SharedReplayRegistry)? { postgres.map { PostgresReplayStore(database: $0) } }
    /// Rate-limit budgets across nodes (PostgreSQL only).
    public var sharedRateBudget: (any SharedRateBudget)? { postgres.map { PostgresRateBudget(database: $0) } }
    public let store: any KeyStore
    public let clock: any WallClock
    public let cache: KeyCache
    public let cacheLoader: KeyCacheLoader
    public let accounts: AccountService
    public let keys: KeyService
    public let apps: AppService
    /// Balances, deposits and transfers.
    public let ledger: LedgerService
    public let withdrawals: WithdrawalService
    /// Orders and fills, and the books that match them.
    public let orders: any OrderStore
    public let engine: MatchingEngine
    /// Committed changes to books, orders, positions and balances, as they happen (the WebSocket pushes).
    public let tradingEvents: TradingEvents
    /// Leverage per instrument, margin mode and side (`set-leverage`, `leverage-info`).
    public let leverage: LeverageService
    /// Mark prices of the perpetuals (the spot index, or the operator's pin).
    public let marks: MarkPriceService
    public let funding: FundingService
    /// Maintenance windows (`system/status`; trading stops while one of the trading service runs).
    public let maintenance: MaintenanceService
    /// The fee schedule and accounts' fee levels (`account/trade-fee`; charged on every fill).
    public let fees: FeeService
    /// Latest use per key, written to the store in batches by ``usageWriter``.
    public let usage: UsageRecorder
    public let usageWriter: UsageWriter
    /// Records expiry warnings and expiries.
    public let expiryWatcher: ExpiryWatcher
    /// Applies cooled-down key changes.
    public let pendingChanges: PendingChangeApplier
    public let events: any KeyEventStore
    /// The audit chain, the queue the batched writer drains, and its checkpoints.
    public let auditStore: any AuditStore
    public let auditQueue: AuditQueue
    public let auditHasher: AuditHasher
    public let checkpoints: AuditCheckpoints
    /// Alert sinks and their outbox.
    public let alertStore: any AlertStore
    public let alertSinks: AlertSinks
    package let sinkSealer: SecretSealer
    package let passphrases: PassphraseVerifier
    /// Web-console operators and sessions (the console's ``ConsoleAuth``, in the HTTP adapter, is built on them).
    public let consoleStore: any ConsoleStore
    /// Seals console operators' TOTP secrets.
    package let consoleSealer: SecretSealer
    /// Signs the console's sign-in form tokens.
    package let consoleFormKey: [UInt8]
    /// Authenticates trading events relayed between nodes.
    package let relayKey: [UInt8]

    /// Opens (creating on first use, mode 0700) the data folder and its database, migrated: the folder's
    /// `keysmith.sqlite`, or `postgres` when given (its pool must be running: ``PostgresDatabase/run()`` in the
    /// service group, or ``PostgresDatabase/whileRunning(_:)``). The master key is the given one (from
    /// `KEYSMITH_MASTER_KEY`) or the folder's `master.key` file, created on first start; every node of a PostgreSQL
    /// installation needs the same one. A master key that does not match the database is refused.
    public static func open(
        dataDirectory: URL, postgres: PostgresDatabase? = nil, masterKey: MasterKey?, clock: any WallClock = SystemWallClock(),
        cacheRefreshInterval: Duration = KeyCacheLoader.defaultInterval, cooldown: Int64 = KeyService.defaultCooldown, role: Role = .server,
        logger: Logger
    ) async throws(StoreError) -> Installation {
        try PrivateFile.makeFolder(dataDirectory)
        let master: MasterKey
        if let masterKey {
            master = masterKey
        } else {
            master = try MasterKey.loadOrCreate(file: dataDirectory.appending(path: "master.key"))
        }
        let sealer = master.secretSealer()
        let sqlite: SQLiteDatabase?
        let database: SQLDatabase
        if let postgres {
            try await postgres.migrate()
            (sqlite, database) = (nil, SQLDatabase(postgres))
        } else {
            let file = try SQLiteDatabase(path: dataDirectory.appending(path: "keysmith.sqlite").path)
            (sqlite, database) = (file, SQLDatabase(file))
        }
        let keys = SQLKeyStore(database: database)
        try await keys.bindMasterKey(sealer)
        let parts = Parts(
            master: master, store: SQLAuditStore(database: database), alerts: SQLAlertStore(database: database),
            ledger: SQLLedgerStore(database: database), orders: SQLOrderStore(database: database),
            console: SQLConsoleStore(database: database), maintenance: SQLMaintenanceStore(database: database),
            fees: SQLFeeStore(database: database))
        return Installation(
            dataDirectory: dataDirectory, database: sqlite, postgres: postgres, store: keys, appStore: keys, eventStore: keys,
            audit: parts, sealer: sealer, passphrases: master.passphraseVerifier(), fingerprints: master.secretFingerprints(),
            clock: clock, cacheRefreshInterval: cacheRefreshInterval, cooldown: cooldown, role: role, logger: logger)
    }

    /// What the installation is opened for.
    public enum Role: Sendable {
        /// Serving requests: key and app changes made here refresh the key cache at once.
        case server
        /// One command (the CLI): nothing reads the key cache, so a change never loads it (loading it unseals every
        /// key in the database); a running server picks the change up from the store's change sequence.
        case command
    }

    package init(
        dataDirectory: URL, database: SQLiteDatabase?, postgres: PostgresDatabase?, store: any KeyStore, appStore: any AppStore, eventStore: any KeyEventStore,
        audit: Parts, sealer: SecretSealer,
        passphrases: PassphraseVerifier, fingerprints: PassphraseVerifier, clock: any WallClock, cacheRefreshInterval: Duration,
        cooldown: Int64, role: Role, logger: Logger
    ) {
        let cache = KeyCache()
        let loader = KeyCacheLoader(store: store, sealer: sealer, cache: cache, interval: cacheRefreshInterval, logger: logger)
        let keysChanged: @Sendable () async -> Void
        switch role {
        case .server: keysChanged = { try? await loader.refresh() }
        case .command: keysChanged = {}
        }
        self.dataDirectory = dataDirectory
        self.database = database
        self.postgres = postgres
        self.store = store
        self.clock = clock
        self.cache = cache
        self.cacheLoader = loader
        self.passphrases = passphrases
        self.usage = UsageRecorder()
        self.usageWriter = UsageWriter(recorder: usage, store: store, logger: logger)
        self.events = eventStore
        self.expiryWatcher = ExpiryWatcher(cache: cache, usage: usage, events: eventStore, clock: clock, logger: logger)
        self.accounts = AccountService(store: store, clock: clock, onChange: keysChanged)
        let tradingEvents = TradingEvents()
        self.tradingEvents = tradingEvents
        self.ledger = LedgerService(store: audit.ledger, accounts: accounts, clock: clock, events: tradingEvents)
        self.withdrawals = WithdrawalService(store: audit.withdrawals, ledger: ledger, clock: clock)
        self.orders = audit.orders
        self.fees = FeeService(store: audit.fees, clock: clock)
        let markSource = MarkSource()
        self.engine = MatchingEngine(
            store: audit.orders, ledger: ledger, fees: fees, clock: clock, marks: markSource, events: tradingEvents)
        self.leverage = LeverageService(store: audit.orders, clock: clock)
        self.marks = MarkPriceService(store: audit.orders, engine: engine, clock: clock)
        markSource.attach(marks)
        self.funding = FundingService(engine: engine, marks: marks, store: audit.orders, clock: clock)
        self.maintenance = MaintenanceService(store: audit.maintenance, clock: clock)
        self.keys = KeyService(
            store: store, sealer: sealer, passphrases: passphrases, fingerprints: fingerprints, clock: clock, cooldown: cooldown,
            onChange: keysChanged)
        self.apps = AppService(store: appStore, clock: clock, logger: logger, onChange: keysChanged)
        self.pendingChanges = PendingChangeApplier(keys: keys, logger: logger)
        self.auditStore = audit.store
        self.auditQueue = AuditQueue()
        self.auditHasher = audit.hasher
        self.checkpoints = AuditCheckpoints(
            store: audit.store, signer: audit.signer, file: dataDirectory.appending(path: "audit-checkpoints.jsonl"), clock: clock,
            logger: logger)
        self.alertStore = audit.alerts
        self.sinkSealer = audit.sinkSealer
        self.alertSinks = AlertSinks(store: audit.alerts, audit: audit.store, sealer: audit.sinkSealer, clock: clock)
        self.consoleStore = audit.console
        self.consoleSealer = audit.consoleSealer
        self.consoleFormKey = audit.consoleFormKey
        self.relayKey = audit.relayKey
    }

    /// The audit, alert and ledger stores and the keys derived for them, as opened.
    package struct Parts: Sendable {
        package let store: any AuditStore
        package let alerts: any AlertStore
        package let ledger: any LedgerStore
        package let withdrawals: any WithdrawalStore
        package let orders: any OrderStore
        package let hasher: AuditHasher
        package let signer: AuditCheckpointSigner
        package let sinkSealer: SecretSealer
        package let console: any ConsoleStore
        package let maintenance: any MaintenanceStore
        package let fees: any FeeStore
        package let consoleSealer: SecretSealer
        package let consoleFormKey: [UInt8]
        package let relayKey: [UInt8]

        /// One backend's stores, with the keys the master key derives for them.
        package init(
            master: MasterKey, store: any AuditStore, alerts: any AlertStore, ledger: any LedgerStore & WithdrawalStore,
            orders: any OrderStore, console: any ConsoleStore, maintenance: any MaintenanceStore, fees: any FeeStore
        ) {
            self.fees = fees
            self.store = store
            self.alerts = alerts
            self.ledger = ledger
            self.withdrawals = ledger
            self.orders = orders
            self.hasher = master.auditHasher()
            self.signer = master.auditSigner()
            self.sinkSealer = master.sinkSealer()
            self.console = console
            self.maintenance = maintenance
            self.consoleSealer = master.consoleSealer()
            self.consoleFormKey = master.consoleFormKey()
            self.relayKey = master.relayKey()
        }
    }

    /// Archives old audit events into `folder` (default: the data folder's `audit-archive`).
    public func auditArchiver(folder: URL? = nil) -> AuditArchiver {
        AuditArchiver(
            store: auditStore, checkpoints: checkpoints, folder: folder ?? dataDirectory.appending(path: "audit-archive"), clock: clock)
    }

    /// The background services a serving node runs beside its HTTP server, in start order (the service group stops
    /// them in reverse): the key cache's poll and (on PostgreSQL) its change listener, usage and audit writers, the
    /// expiry watcher, cooled-down key changes, alert delivery, the settings watcher (maintenance windows, fees), funding settlements, and audit retention when `auditRetention` is set.
    public func lifecycleServices(
        auditCheckpointInterval: Int64, alertDelivery: AlertDeliveryWorker.Policy, auditRetention: Int64?, swapScheduler: Bool = true,
        logger: Logger
    ) -> [any Service] {
        var services: [any Service] = [
            cacheLoader, usageWriter, expiryWatcher, pendingChanges,
            AuditWriter(
                queue: auditQueue, store: auditStore, checkpoints: checkpoints, clock: clock,
                checkpointInterval: auditCheckpointInterval, logger: logger),
            AlertDeliveryWorker(store: alertStore, sealer: sinkSealer, clock: clock, policy: alertDelivery, logger: logger),
            SettingsWatcher(maintenance: maintenance, fees: fees, marks: marks, logger: logger),
        ]
        if swapScheduler { services.append(FundingScheduler(funding: funding, logger: logger)) }
        if let feed = (store as? SQLKeyStore)?.changeFeed {
            services.append(KeyChangeListener(feed: feed, loader: cacheLoader, logger: logger))
        }
        if let postgres {
            let channel = PostgresChannel(database: postgres, name: TradingEventRelay.channelName)
            services.append(TradingEventRelay(events: tradingEvents, channel: channel, key: relayKey, logger: logger))
        }
        if let auditRetention {
            services.append(AuditRetention(archiver: auditArchiver(), retention: auditRetention, clock: clock, logger: logger))
        }
        return services
    }

    public var bootstrap: Bootstrap { Bootstrap(accounts: accounts, keys: keys) }

    /// A request authenticator over this installation's key cache, with its own rate limits, lockout and replay state.
    public func authenticator(lockout: FailedAuthLockout.Policy = .init()) -> RequestAuthenticator {
        RequestAuthenticator(
            cache: cache, passphrases: passphrases, lockout: FailedAuthLockout(policy: lockout), usage: usage)
    }
}
