import ArgumentParser
import KeysmithApp
import KeysmithCore
import KeysmithServer

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Initialise the data folder: master key, master account and a bootstrap master API key.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .customLong("ip"), help: "Address or CIDR the bootstrap key accepts (repeatable; default 127.0.0.1 and ::1).")
    var addresses: [String] = []

    func run() async throws {
        let logger = CLILogging.logger(default: .warning)
        try await options.withInstallation(logger: logger) { installation in
            let allowlist = addresses.isEmpty ? IPAllowlist.loopback : try IPAllowlist(parsing: addresses)
            guard let first = try await installation.bootstrap.initializeIfNeeded(allowlist: allowlist, origin: .cli("init")) else {
                throw CLIError("\(installation.dataDirectory.path) is already initialised")
            }
            Self.show(first, dataDirectory: installation.dataDirectory.path, json: options.json)
        }
    }

    /// Prints the bootstrap credentials, the only time they are shown.
    static func show(_ first: Bootstrap.Initialized, dataDirectory: String, json: Bool) {
        let c = first.credentials
        if json {
            try? Output.json(["uid": first.master.uid, "apiKey": c.apiKey, "secretKey": c.secretKey, "passphrase": c.passphrase])
            return
        }
        Output.line("""

            ==================== Keysmith initialised ====================
            Data folder:   \(dataDirectory)
            Master uid:    \(first.master.uid)

            Bootstrap master API key (read_only,trade,withdraw; IPs \(first.key.allowlist.okxString)).
            Copy these now: the secret and passphrase are never shown again.

              API key:     \(c.apiKey)
              Secret key:  \(c.secretKey)
              Passphrase:  \(c.passphrase)
            ==============================================================

            """)
    }
}
