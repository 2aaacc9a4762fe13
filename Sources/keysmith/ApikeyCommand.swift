import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore

struct ApikeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Create, list and revoke API keys.", subcommands: [Create.self, List.self, Modify.self, Rotate.self, Revoke.self, Audit.self, Pending.self, CancelPending.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; its secret and passphrase are shown once.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "The sub-account the key belongs to.") var subaccount: String?
        @Flag(help: "Create a master-account key instead (may hold withdraw).") var master = false
        @Option(help: "A label, unique among the account's keys.") var label: String
        @Option(help: "Permissions, OKX comma form: read_only, trade, withdraw.") var perm = "read_only"
        @Option(name: .customLong("ip"), help: "Allowed address or CIDR (repeatable, or comma-separated; at most 20).")
        var addresses: [String] = []
        @Option(help: "Link the key to a registered third-party app: its IPs become the key's allowlist.") var app: String?
        @Option(help: "Passphrase (8–32 chars with upper, lower, digit, special); generated when omitted.") var passphrase: String?
        @Flag(help: "A demo-trading key (clients send x-simulated-trading: 1).") var demo = false
        @Option(name: .customLong("rate-limit"), help: "Override OKX's per-endpoint limits: N/s, N/2s, N/m or unlimited.")
        var rateLimit: String?
        @Option(help: "Expiry: a date (2026-12-31), an OKX timestamp, or a duration from now (12h, 30d).")
        var expires: String?
        @Option(help: "Secret format: hex (OKX's, default) or scannable (ks_… with a checksum, found by `keysmith scan`).")
        var format = "hex"
        @Option(name: .customLong("inst"), help: "Instruments the key may trade, e.g. BTC-USDT,ETH-USDT-SWAP (default: any).")
        var instruments: String?
        @Option(name: .customLong("products"), help: "Products the key may trade: spot, swap or spot,swap (default: any).")
        var products: String?
        @Option(name: .customLong("max-order-usdt"), help: "Largest order notional in USDT.") var maxOrderUSDT: String?
        @Option(name: .customLong("max-daily-usdt"), help: "Largest notional traded per UTC day in USDT.") var maxDailyUSDT: String?
        @Option(name: .customLong("ed25519-public-key"), help: "An Ed25519 key: its public key (a PEM file, or PEM/base64/hex text). No secret is issued.")
        var ed25519PublicKey: String?

        func validate() throws {
            guard (subaccount != nil) != master else { throw ValidationError("give either --subaccount NAME or --master") }
            guard app == nil || addresses.isEmpty else { throw ValidationError("an app key takes the app's IPs: give --app or --ip, not both") }
        }

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let account = if let subaccount {
                    try await installation.accounts.subAccount(named: subaccount)
                } else {
                    try await installation.accounts.master()
                }
                let now = installation.clock.milliseconds
                let permissions = try Permissions(okx: perm)
                let expiresAt = try expires.map { try Expiry.parse($0, now: now) }
                let limit = try rateLimit.map { text throws(OKXError) in try RateLimit(parsing: text) }
                let request = if let app {
                    NewKeyRequest(
                        account: account, label: label, linking: try await installation.apps.app(named: app), permissions: permissions,
                        passphrase: passphrase, environment: demo ? .demo : .live, expiresAt: expiresAt, rateLimit: limit)
                } else {
                    NewKeyRequest(
                        account: account, label: label, permissions: permissions, allowlist: try IPAllowlist(parsing: addresses),
                        passphrase: passphrase, environment: demo ? .demo : .live, expiresAt: expiresAt, rateLimit: limit)
                }
                var keyRequest = request
                guard let secretFormat = SecretFormat(rawValue: format) else { throw CLIError("--format is hex or scannable") }
                keyRequest.secretFormat = secretFormat
                keyRequest.trading = try TradingRestrictions(
                    instruments: instruments, maxOrderUSDT: maxOrderUSDT, maxDailyUSDT: maxDailyUSDT, products: products)
                if let ed25519PublicKey {
                    let text = (try? String(contentsOfFile: ed25519PublicKey, encoding: .utf8)) ?? ed25519PublicKey
                    keyRequest.ed25519PublicKey = try Ed25519KeyText.publicKey(from: text)
                }
                let created = try await installation.keys.create(keyRequest, origin: .cli("apikey.create"))
                let key = created.key, c = created.credentials
                if options.json {
                    try Output.json(CreatedKeyJSON(
                        apiKey: c.apiKey, secretKey: c.secretKey, passphrase: c.passphrase, label: key.label,
                        perm: key.permissions.okxString, ip: key.allowlist.okxString, subAcct: subaccount ?? "",
                        algorithm: key.algorithm.rawValue))
                    return
                }
                Output.line("""
                    Created API key '\(key.label)' for \(subaccount.map { "sub-account \($0)" } ?? "the master account") \
                    (\(key.permissions.okxString); IPs: \(key.allowlist.isEmpty ? "any" : key.allowlist.okxString)\(demo ? "; demo" : "")).
                    Copy these now: the \(key.algorithm == .hmac ? "secret and passphrase are" : "passphrase is") never shown again.

                      API key:     \(c.apiKey)
                      \(key.algorithm == .hmac ? "Secret key:  \(c.secretKey)" : "Signing:     Ed25519 (sign with your private key)")
                      Passphrase:  \(c.passphrase)
                    """)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets).")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this sub-account's keys.") var subaccount: String?
        @Flag(name: .customLong("include-revoked"), help: "Show revoked keys too.") var includeRevoked = false

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                var accounts: [Account] = []
                if let subaccount {
                    accounts = [try await installation.accounts.subAccount(named: subaccount)]
                } else {
                    accounts = [try await installation.accounts.master()] + (try await installation.accounts.subAccounts())
                }
                var rows: [KeyJSON] = []
                let now = installation.clock.milliseconds
                let pending = Dictionary(uniqueKeysWithValues: try await installation.keys.allPending().map { ($0.apiKey, $0) })
                for account in accounts {
                    for key in try await installation.keys.keys(of: account, includeRevoked: includeRevoked) {
                        rows.append(KeyJSON(key, account: account, now: now, pending: pending[key.apiKey]))
                    }
                }
                if options.json {
                    try Output.json(rows)
                    return
                }
                Output.table(
                    ["API KEY", "ACCOUNT", "LABEL", "PERM", "IP", "ENV", "RATE LIMIT", "STATUS", "CREATED", "LAST USED", "EXPIRES"],
                    rows.map {
                        [$0.apiKey, $0.subAcct.isEmpty ? "(master)" : $0.subAcct, $0.label, $0.perm, $0.ip.isEmpty ? "any" : $0.ip,
                         $0.env, $0.rateLimit.isEmpty ? "okx" : $0.rateLimit, $0.status, Expiry.format($0.ts),
                         $0.lastUsedAt.isEmpty ? "never" : "\(Expiry.format($0.lastUsedAt)) from \($0.lastUsedIp)",
                         $0.expiresAt.isEmpty ? "never" : "\(Expiry.format($0.expiresAt))\($0.expiryReason == "inactivity" ? " if unused" : "")"]
                    })
            }
        }
    }

    struct Modify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a key's label, permissions or IP allowlist; a running server applies it at once.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The API key to change.") var apiKey: String
        @Option(help: "New label.") var label: String?
        @Option(help: "New permissions (replace the old ones), OKX comma form.") var perm: String?
        @Option(name: .customLong("ip"), help: "New allowlist entry (repeatable; replaces the old list).") var addresses: [String] = []
        @Flag(name: .customLong("no-ip"), help: "Unbind the key from every address.") var unbind = false

        func validate() throws {
            guard !(unbind && !addresses.isEmpty) else { throw ValidationError("give --ip or --no-ip, not both") }
            guard label != nil || perm != nil || unbind || !addresses.isEmpty else {
                throw ValidationError("nothing to change: give --label, --perm, --ip or --no-ip")
            }
        }

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let account = try await installation.keys.owner(of: apiKey)
                let allowlist: IPAllowlist? = unbind ? .empty : (addresses.isEmpty ? nil : try IPAllowlist(parsing: addresses))
                let key = try await installation.keys.modify(
                    apiKey: apiKey, of: account, label: label,
                    permissions: try perm.map { text throws(OKXError) in try Permissions(okx: text) }, allowlist: allowlist, origin: .cli("apikey.modify"))
                let pending = try await installation.keys.pending(apiKey: apiKey)
                let row = KeyJSON(key, account: account, now: installation.clock.milliseconds, pending: pending)
                if options.json {
                    try Output.json(row)
                } else {
                    Output.line("Modified API key \(key.apiKey): label '\(key.label)', \(key.permissions.okxString), IPs \(row.ip.isEmpty ? "any" : row.ip).")
                    if let pending {
                        Output.line("""
                            Cooling down until \(Expiry.format(String(pending.effectiveAt))) UTC: \(pending.permissions.okxString),                         IPs \(pending.allowlist.isEmpty ? "any" : pending.allowlist.okxString). Cancel with: keysmith apikey cancel-pending \(apiKey)
                            """)
                    }
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a successor with the same settings; the old key works until the grace period ends.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The API key to rotate.") var apiKey: String
        @Option(help: "How long the old key keeps working: 0m to 30d (e.g. 24h).") var grace = "24h"
        @Option(help: "A new passphrase; by default the successor keeps the old one.") var passphrase: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let graceMilliseconds = try Expiry.parse(grace, now: 0, allowZero: true, flag: "--grace")
                let rotated = try await installation.keys.rotate(apiKey: apiKey, grace: graceMilliseconds, passphrase: passphrase, origin: .cli("apikey.rotate"))
                let c = rotated.credentials
                if options.json {
                    var out = ["apiKey": c.apiKey, "secretKey": c.secretKey, "label": rotated.key.label,
                               "rotatedFrom": apiKey, "oldKeyExpiresAt": String(rotated.oldKeyExpiresAt)]
                    if rotated.passphraseChanged { out["passphrase"] = c.passphrase }
                    try Output.json(out)
                    return
                }
                Output.line("""
                    Rotated \(apiKey) → new key '\(rotated.key.label)'. The old key works until \(Expiry.format(String(rotated.oldKeyExpiresAt))) UTC.
                    Copy the new secret now: it is never shown again.\(rotated.passphraseChanged ? "" : " The passphrase is unchanged.")

                      API key:     \(c.apiKey)
                      Secret key:  \(c.secretKey)\(rotated.passphraseChanged ? "\n  Passphrase:  \(c.passphrase)" : "")
                    """)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key; a running server refuses it within a second.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The API key to revoke.") var apiKey: String
        @Option(help: "Why (kept with the key).") var reason = "revoked with the CLI"

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.keys.revoke(apiKey: apiKey, reason: reason, origin: .cli("apikey.revoke"))
                if options.json {
                    try Output.json(["apiKey": apiKey, "status": "revoked"])
                } else {
                    Output.line("Revoked API key \(apiKey).")
                }
            }
        }
    }
}
