import ArgumentParser
import Foundation
import KeysmithCore
import KeysmithServer

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

    func run() async throws {
        let logger = CLILogging.logger(default: .info)
        let installation = try await options.openInstallation(logger: logger)
        if let first = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback) {
            Init.show(first, dataDirectory: installation.dataDirectory.path, json: options.json)
        }
        let configuration = ServerConfiguration(
            host: host, port: port, trustedProxies: try IPAllowlist(parsing: trustedProxies),
            publicRateLimit: try publicRateLimit.map { text throws(OKXError) in try RateLimit(parsing: text) })
        let app = try await buildApplication(installation, configuration: configuration, logger: logger) { port in
            logger.info("Keysmith is listening: OKX v5 REST API at http://\(host):\(port)/api/v5 (data in \(installation.dataDirectory.path))")
        }
        try await app.runService()
    }
}
