import ArgumentParser
import Foundation
import KeysmithServer

struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Certificates for serving HTTPS and WSS (serve --tls-cert/--tls-key).",
        subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a local certificate authority (kept and reused) and a server certificate it signs, for development.",
            discussion: """
                Writes ca.pem, ca-key.pem, server.pem and server-key.pem (mode 0600) into --out (default: DATA-DIR/tls). \
                Clients trust ca.pem: SSL_CERT_FILE for Python (python-okx, ccxt), or their own CA-file setting. \
                Run again to issue a new server certificate under the same CA.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: "Where to write the files (default: DATA-DIR/tls).") var out: String?
        @Option(name: .customLong("host"), help: "A DNS name or IP address the certificate names (repeatable; default localhost, 127.0.0.1, ::1).")
        var hosts: [String] = []
        @Option(help: "How many days the server certificate is valid.") var days = 825

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days is 1 to 3650") }
        }

        func run() async throws {
            let folder = URL(filePath: out ?? (options.dataDirectory as NSString).appendingPathComponent("tls"))
            let files = try DevelopmentCertificates.make(in: folder, hosts: hosts.isEmpty ? ["localhost", "127.0.0.1", "::1"] : hosts, days: days)
            if options.json {
                try Output.json(files)
                return
            }
            Output.line("""
                \(files.caCreated ? "Made a local CA" : "Reused the local CA") and a server certificate for \(files.hosts.joined(separator: ", ")) (valid until \(files.notAfter)).
                  CA certificate (trust it):  \(files.caCert)
                  Server certificate chain:   \(files.cert)
                  Server key:                 \(files.key)

                Serve HTTPS and WSS:
                  keysmith serve --tls-cert \(files.cert) --tls-key \(files.key)
                Trust it from Python (python-okx, ccxt):
                  export SSL_CERT_FILE=\(files.caCert)
                """)
        }
    }
}
