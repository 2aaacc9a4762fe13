import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the OKX v5 REST server; initialises the data folder on first start.")

    @OptionGroup var options: GlobalOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(name: .customLong("trusted-proxy"), help: "A proxy address or CIDR whose X-Forwarded-For is trusted (repeatable).")
    var trustedProxies: [String] = []

    @Option(name: .customLong("public-rate-limit"), help: "Limit public endpoints per client IP (N/s, N/m); unlimited by default.")
    var publicRateLimit: String?

    @Flag(name: .customLong("no-audit-requests"), help: "Do not audit each API request (state changes are always audited).")
    var noAuditRequests = false

    @Option(name: .customLong("alert-auth-failures"), help: "Failures per key or IP that raise auth.failure_burst, as N/WINDOW.")
    var alertAuthFailures = "10/60s"

    @Option(name: .customLong("failed-auth-limit"),
            help: "Authentication failures per client IP, as N/WINDOW, that lock the IP out for 5 minutes; 'unlimited' turns the lockout off.")
    var failedAuthLimit = "20/60s"

    @Option(name: .customLong("alert-max-attempts"), help: "Delivery attempts before an alert is dead-lettered.")
    var alertMaxAttempts = 8

    @Option(name: .customLong("alert-retry-base"), help: "Wait before the first retry of an alert; doubles each time (jittered).")
    var alertRetryBase = "2s"

    @Option(name: .customLong("alert-timeout"), help: "How long one delivery attempt may take (connecting included).")
    var alertTimeout = "10s"

    @Option(name: .customLong("audit-retention"), help: "Archive audit events older than this (e.g. 90d) hourly; kept forever when unset.")
    var auditRetention: String?

    @Option(name: .customLong("audit-checkpoint-interval"), help: "How often the audit chain head is verified and signed.")
    var auditCheckpointInterval = "60s"

    @Flag(
        name: .customLong("no-swap-scheduler"),
        help: "Do not liquidate, settle funding or record mark prices here: every node but the one that trades, on PostgreSQL.")
    var noSwapScheduler = false
    @Flag(name: .customLong("secure-cookies"), help: "Mark the console's session cookie Secure (when served behind TLS).")
    var secureCookies = false

    @Option(name: .customLong("request-timeout"), help: "How long a request head may take to arrive; the connection is closed beyond it.")
    var requestTimeout = "10s"

    @Option(name: .customLong("idle-timeout"), help: "How long a keep-alive connection may sit idle, or a request body stall, before it is closed.")
    var idleTimeout = "60s"

    @Option(
        name: .customLong("ipv6-client-prefix"),
        help: "IPv6 clients are counted per network of this prefix length for the failed-auth lockout and the WebSocket connection rate (0-128).")
    var ipv6ClientPrefix = 64

    @Option(
        name: .customLong("console-sign-in-limit"),
        help: "Console sign-in attempts per client network (IPv4 address, IPv6 /64) before HTTP 429: N/PERIOD or unlimited.")
    var consoleSignInLimit = "5/30s"

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS and WSS with this PEM certificate chain (server certificate first); needs --tls-key.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("ws-max-subscriptions"), help: "Subscriptions one WebSocket connection may hold.")
    var wsMaxSubscriptions = 256

    @Option(
        name: .customLong("ws-send-queue"),
        help: "Messages a WebSocket connection may have waiting to be sent; a client that falls further behind is disconnected.")
    var wsSendQueue = 4096

    @Option(name: .customLong("ws-requests-per-hour"), help: "Login, subscribe and unsubscribe requests one WebSocket connection may make in an hour (OKX: 480).")
    var wsRequestsPerHour = 480

    @Option(
        name: .customLong("ws-refusals-per-hour"),
        help: "Trading requests one WebSocket connection may have refused before anything is carried out, in an hour; one more closes it.")
    var wsRefusalsPerHour = 480

    @Option(name: .customLong("ws-connection-rate"), help: "New WebSocket connections per client IP, as N/PERIOD (OKX: 3/1s), or unlimited.")
    var wsConnectionRate = "3/1s"

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard wsMaxSubscriptions > 0 else { throw ValidationError("--ws-max-subscriptions is at least 1") }
        guard wsSendQueue > 0 else { throw ValidationError("--ws-send-queue is at least 1") }
        guard wsRequestsPerHour > 0, wsRefusalsPerHour > 0 else { throw ValidationError("--ws-requests-per-hour and --ws-refusals-per-hour are at least 1") }
        // The port goes on to a 16-bit socket field, which traps on anything wider.
        guard (0...65535).contains(port) else { throw ValidationError("--port is 0 to 65535; got \(port)") }
    }

    func run() async throws {
        let logger = CLILogging.logger(default: .info)
        var configuration = ServerConfiguration(
            host: host, port: port, trustedProxies: try IPAllowlist(parsing: trustedProxies),
            publicRateLimit: try publicRateLimit.map { text throws(OKXError) in try RateLimit(parsing: text) },
            auditRequests: !noAuditRequests, authFailureBursts: try burstPolicy(),
            alertDelivery: AlertDeliveryWorker.Policy(
                maximumAttempts: alertMaxAttempts,
                baseDelayMilliseconds: try Durations.milliseconds(alertRetryBase, flag: "--alert-retry-base"),
                requestTimeout: .milliseconds(max(100, try Durations.milliseconds(alertTimeout, flag: "--alert-timeout")))),
            auditCheckpointInterval: max(1_000, try Durations.milliseconds(auditCheckpointInterval, flag: "--audit-checkpoint-interval")),
            auditRetention: try auditRetention.map { try Durations.milliseconds($0, flag: "--audit-retention") })
        configuration.secureCookies = secureCookies
        configuration.swapScheduler = !noSwapScheduler
        configuration.requestReadTimeout = .milliseconds(max(1, try Durations.milliseconds(requestTimeout, flag: "--request-timeout")))
        configuration.idleTimeout = .milliseconds(max(1, try Durations.milliseconds(idleTimeout, flag: "--idle-timeout")))
        guard (0...128).contains(ipv6ClientPrefix) else { throw CLIError("--ipv6-client-prefix takes 0 to 128; got \(ipv6ClientPrefix)") }
        configuration.failedAuthLockout = try lockoutPolicy()
        configuration.failedAuthLockout.ipv6PrefixLength = ipv6ClientPrefix
        configuration.consoleSignIn.limit = try RateLimit(parsing: consoleSignInLimit)
        if let tlsCert, let tlsKey {
            configuration.tls = ServerTLS(certificatePath: tlsCert, keyPath: tlsKey)
            // Read now, before a first start creates the installation and its console user (whose password is
            // printed once the server listens): a bad path must not cost that password.
            try configuration.tls?.check()
        }
        configuration.webSocket.ipv6PrefixLength = ipv6ClientPrefix
        configuration.webSocket.subscriptions = wsMaxSubscriptions
        configuration.webSocket.sendQueue = wsSendQueue
        configuration.webSocket.requestsPerHour = wsRequestsPerHour
        configuration.webSocket.refusalsPerHour = wsRefusalsPerHour
        configuration.webSocket.connectionRate = try RateLimit(parsing: wsConnectionRate)
        // On PostgreSQL the connection pool is the service group's first service, so it runs before the node opens
        // the database and stops after the node has finished (the group stops services in reverse order).
        let postgres = try options.postgresDatabase(logger: logger)
        let node = ServingNode(options: options, postgres: postgres, configuration: configuration, logger: logger)
        let services: [any Service] = (postgres.map { [$0] } ?? []) + [node]
        try await ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }

    private func lockoutPolicy() throws -> FailedAuthLockout.Policy {
        if failedAuthLimit == "unlimited" { return FailedAuthLockout.Policy(threshold: Int.max) }
        let parts = failedAuthLimit.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else {
            throw CLIError("--failed-auth-limit takes N/WINDOW such as 20/60s, or unlimited; got '\(failedAuthLimit)'")
        }
        let window = try Durations.milliseconds(String(parts[1]), flag: "--failed-auth-limit window")
        return FailedAuthLockout.Policy(threshold: count, windowMilliseconds: max(1, window))
    }

    private func burstPolicy() throws -> AuthFailureBursts.Policy {
        let parts = alertAuthFailures.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else {
            throw CLIError("--alert-auth-failures takes N/WINDOW such as 10/60s; got '\(alertAuthFailures)'")
        }
        let window = try Durations.milliseconds(String(parts[1]), flag: "--alert-auth-failures window")
        return AuthFailureBursts.Policy(threshold: count, windowMilliseconds: max(1, window))
    }
}

/// One serving node: opens the installation (creating it on first start), then runs the HTTP server and the
/// lifecycle services until the service group shuts down.
private struct ServingNode: Service {
    let options: GlobalOptions
    let postgres: PostgresDatabase?
    let configuration: ServerConfiguration
    let logger: Logger

    func run() async throws {
        await postgres?.untilRunning()
        let installation = try await options.openInstallation(postgres: postgres, logger: logger, role: .server)
        if let first = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: .cli("serve.first-start")) {
            Init.show(first, dataDirectory: installation.dataDirectory.path, json: options.json)
        }
        let console = ConsoleAuth(installation)
        let admin = try await console.createFirstAdminIfNeeded(origin: .cli("serve.first-start"))
        let (host, logger) = (configuration.host, logger)
        let (http, ws) = configuration.tls == nil ? ("http", "ws") : ("https", "wss")
        let app = try await buildApplication(installation, console: console, configuration: configuration, logger: logger) { port in
            logger.info("Keysmith is listening: OKX v5 REST API at \(http)://\(host):\(port)/api/v5 (data in \(installation.dataDirectory.path))")
            logger.info("WebSocket API: \(ws)://\(host):\(port)/ws/v5/public, /ws/v5/private, /ws/v5/business")
            logger.info("Web console: \(http)://\(host):\(port)/console")
            if let admin {
                Output.line("""

                    Web console: \(http)://\(host):\(port)/console
                    First console user (shown once; set up two-factor authentication at the first sign-in):
                      Email:     \(admin.email)
                      Password:  \(admin.password)

                    """)
            }
        }
        try await app.run()
    }
}
