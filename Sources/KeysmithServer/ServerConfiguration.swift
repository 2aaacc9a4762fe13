import KeysmithApp
import KeysmithCore

/// Settings of the HTTP server, with defaults. Flags and environment are read by the CLI only.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Peers whose `X-Forwarded-For` is believed. Empty: the socket peer is the client.
    public var trustedProxies: IPAllowlist
    /// Largest request body accepted (50000, HTTP 413 beyond it).
    public var maximumBodySize: Int
    /// When repeated authentication failures lock a client IP out.
    public var failedAuthLockout: FailedAuthLockout.Policy
    /// A per-client-IP limit on public endpoints; nil (the default) leaves them unlimited, so that a self-hosted
    /// server never throttles its own benchmarks or many platforms behind one NAT.
    public var publicRateLimit: RateLimit?
    /// Whether every private API request is audited. State changes are audited in their own transaction either way;
    /// turning this off is for measuring what auditing reads costs.
    public var auditRequests: Bool
    /// How many authentication failures within a window raise an `auth.failure_burst` alert (per key and per IP).
    public var authFailureBursts: AuthFailureBursts.Policy
    /// Retries, backoff and timeouts of alert delivery.
    public var alertDelivery: AlertDeliveryWorker.Policy
    /// How often the audit chain head is verified and signed (milliseconds).
    public var auditCheckpointInterval: Int64
    /// Events older than this (milliseconds) are archived hourly to JSON-lines files; nil keeps everything.
    public var auditRetention: Int64?
    /// Mark the console's session cookie `Secure` (serve behind TLS).
    public var secureCookies = false
    /// Whether this node liquidates, settles funding and records mark prices (``FundingScheduler``): on PostgreSQL,
    /// only the node that trades may (its positions live in its memory); `serve --no-swap-scheduler` on the others.
    public var swapScheduler = true
    /// Per-client-network limit on console sign-in attempts (password and code forms), checked before any bcrypt work.
    public var consoleSignIn = ConsoleSignInThrottle.Policy()
    /// On a shared (PostgreSQL) database: how stale the key cache may be before authenticated requests are refused
    /// with 50001 (a revocation made on another node is never honoured later than this).
    public var cacheFreshnessBound: Duration = .seconds(1)
    /// How long a request head may take to arrive, from its first byte to its last; the connection is closed beyond
    /// it (a client that trickles its headers holds nothing for long).
    public var requestReadTimeout: Duration = .seconds(10)
    /// How long a keep-alive connection may sit idle between requests, or a request body may stop arriving, before
    /// the connection is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// What each WebSocket connection may do (send queue, message size, requests per hour, silence).
    public var webSocket = WebSocketLimits()
    /// HTTPS and WSS on the port (`serve --tls-cert/--tls-key`); plain HTTP when nil.
    public var tls: ServerTLS?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, trustedProxies: IPAllowlist = .empty,
        maximumBodySize: Int = 256 * 1024,
        failedAuthLockout: FailedAuthLockout.Policy = .init(), publicRateLimit: RateLimit? = nil, auditRequests: Bool = true,
        authFailureBursts: AuthFailureBursts.Policy = .init(), alertDelivery: AlertDeliveryWorker.Policy = .init(),
        auditCheckpointInterval: Int64 = 60_000, auditRetention: Int64? = nil
    ) {
        self.auditRetention = auditRetention
        self.auditRequests = auditRequests
        self.authFailureBursts = authFailureBursts
        self.alertDelivery = alertDelivery
        self.auditCheckpointInterval = auditCheckpointInterval
        self.host = host
        self.port = port
        self.trustedProxies = trustedProxies
        self.maximumBodySize = maximumBodySize
        self.failedAuthLockout = failedAuthLockout
        self.publicRateLimit = publicRateLimit
    }
}
