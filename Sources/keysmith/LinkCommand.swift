import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithClient

/// `keysmith link add|list|remove|validate|balance|rotate`: the platform side — exchange keys kept in the
/// encrypted vault, checked before they are trusted.
struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Link exchange API keys (OKX or a Keysmith server) for a platform: validated, stored encrypted in the vault.",
        discussion: """
            Credentials are read from a hidden prompt or, when stdin is not a terminal, three lines on stdin: API key, \
            secret, passphrase — never from flags. The vault is $KEYSMITH_VAULT (default ~/.keysmith/vault), its key \
            $KEYSMITH_VAULT_KEY (default ~/.keysmith/vault.key).

            Every signed request carries the key's passphrase, so a plain http URL is accepted only for this machine \
            (127.0.0.0/8, ::1, localhost). Any other http address needs --insecure-http on every command that calls \
            it (add, validate, balance, rotate), also for a link stored with it.
            """,
        subcommands: [Add.self, List.self, Remove.self, Validate.self, Balance.self, Rotate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a key and store it under NAME; nothing is stored if any check fails (warnings do not block).")
        @Argument(help: "A name for the link, e.g. okx-main-bot.") var name: String
        @Option(help: "The exchange's base URL: https://www.okx.com, https://eea.okx.com or a Keysmith server.") var url: String
        @Flag(help: "Demo trading (sends x-simulated-trading: 1).") var demo = false
        @Flag(help: "The secret is an Ed25519 private key (PEM body, base64 or hex) rather than an HMAC secret.") var ed25519 = false
        @Option(name: .customLong("expect-pos-mode"), help: "The position mode the platform needs: net_mode (one-way; freqtrade) or long_short_mode; a mismatch fails.")
        var expectedPositionMode: String?
        @Flag(name: .customLong("expect-futures"), help: "The platform trades perpetual swaps: a spot-mode account (acctLv 1) fails.")
        var expectFutures = false
        @Flag(name: .customLong("insecure-http"), help: "Allow a plain http URL to a host other than this machine (the passphrase travels unencrypted).")
        var insecureHTTP = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let location = VaultLocation.standard()
            guard LinkedCredential.isValidName(name) else { throw VaultError.invalidName(name) }
            // A mistyped expectation is refused before any secret is asked for.
            try LinkCLI.checkPositionMode(expectedPositionMode)
            try LinkCLI.requireAcceptedURL(url, insecureHTTP: insecureHTTP)
            let passphrase = try VaultCLI.passphraseIfNeeded(location)
            if FileManager.default.fileExists(atPath: location.vault.path),
                try CredentialVault.open(location, passphrase: passphrase).names.contains(name)
            {
                throw VaultError.duplicateName(name)
            }
            let credential = try LinkCLI.readCredential(name: name, url: url, demo: demo, ed25519: ed25519)
            let report = await (try LinkCLI.validator(credential, positionMode: expectedPositionMode, futures: expectFutures)).validate()
            LinkCLI.print(report, name: name, json: json)
            guard report.ok else {
                LinkCLI.note("Nothing was stored: fix the failures above and run link add again.")
                throw ExitCode(1)
            }
            let created = !FileManager.default.fileExists(atPath: location.vault.path)
            let validated = LinkedCredential(
                name: name, url: credential.url, demo: demo, credentials: credential.credentials, validatedAt: Date())
            try CredentialVault.update(location, passphrase: passphrase, createIfMissing: true) { vault in try vault.add(validated) }
            if created { LinkCLI.note("Created the vault \(location.vault.path).") }
            LinkCLI.note("Linked \(name) (key \(credential.credentials.maskedAPIKey)) to \(credential.url).")
            if !json { try? await LinkCLI.printBalances(of: validated, json: false) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the linked keys in the vault (names, URLs, masked key ids; never a secret).")
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            try VaultCLI.list(json: json)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a linked key from the vault (the key itself stays valid on the exchange).")
        @Argument(help: "The link's name.") var name: String

        func run() async throws {
            try VaultCLI.remove(name)
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a linked key: valid, no withdraw, IP-bound, sub-account, account and position mode, expiry, clock skew.",
            discussion: "Exits 1 when any check fails.")
        @Argument var name: String
        @Option(name: .customLong("expect-pos-mode"), help: "The position mode the platform needs: net_mode (one-way; freqtrade) or long_short_mode; a mismatch fails.")
        var expectedPositionMode: String?
        @Flag(name: .customLong("expect-futures"), help: "The platform trades perpetual swaps: a spot-mode account (acctLv 1) fails.")
        var expectFutures = false
        @Flag(name: .customLong("insecure-http"), help: "Allow a plain http URL to a host other than this machine (the passphrase travels unencrypted).")
        var insecureHTTP = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let location = VaultLocation.standard()
            let passphrase = try VaultCLI.passphraseIfNeeded(location)
            let credential = try CredentialVault.open(location, passphrase: passphrase).credential(named: name)
            try LinkCLI.requireAcceptedURL(credential.url, insecureHTTP: insecureHTTP)
            let report = await (try LinkCLI.validator(credential, positionMode: expectedPositionMode, futures: expectFutures)).validate()
            LinkCLI.print(report, name: name, json: json)
            guard report.ok else { throw ExitCode(1) }
            try CredentialVault.update(location, passphrase: passphrase) { vault in
                // Only when the vault still holds the credential that was checked.
                if let current = try? vault.credential(named: name), current.credentials == credential.credentials {
                    try vault.replace(LinkedCredential(
                        name: name, url: current.url, demo: current.demo, credentials: current.credentials,
                        createdAt: current.createdAt, updatedAt: current.updatedAt, validatedAt: Date()))
                }
            }
        }
    }

    struct Balance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a linked account's trading and funding balances.")
        @Argument var name: String
        @Flag(name: .customLong("insecure-http"), help: "Allow a plain http URL to a host other than this machine (the passphrase travels unencrypted).")
        var insecureHTTP = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let location = VaultLocation.standard()
            let credential = try CredentialVault.open(location, passphrase: try VaultCLI.passphraseIfNeeded(location)).credential(named: name)
            try LinkCLI.requireAcceptedURL(credential.url, insecureHTTP: insecureHTTP)
            try await LinkCLI.printBalances(of: credential, json: json)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-link NAME with the successor key after rotating it on the exchange; the old one is kept if the new one fails.")
        @Argument var name: String
        @Flag(help: "The secret is an Ed25519 private key.") var ed25519 = false
        @Flag(name: .customLong("insecure-http"), help: "Allow a plain http URL to a host other than this machine (the passphrase travels unencrypted).")
        var insecureHTTP = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let location = VaultLocation.standard()
            let passphrase = try VaultCLI.passphraseIfNeeded(location)
            let current = try CredentialVault.open(location, passphrase: passphrase).credential(named: name)
            try LinkCLI.requireAcceptedURL(current.url, insecureHTTP: insecureHTTP)
            let successor = try LinkCLI.readCredential(name: name, url: current.url, demo: current.demo, ed25519: ed25519)
            guard successor.credentials.apiKey != current.credentials.apiKey else {
                throw CLIError("that is the key \(name) already uses; give the new key from the rotation")
            }
            let report = await LinkValidator(successor).validate()
            LinkCLI.print(report, name: name, json: json)
            guard report.ok else {
                LinkCLI.note("Nothing was changed: \(name) still uses key \(current.credentials.maskedAPIKey).")
                throw ExitCode(1)
            }
            try CredentialVault.update(location, passphrase: passphrase) { vault in
                try vault.replace(LinkedCredential(
                    name: name, url: current.url, demo: current.demo, credentials: successor.credentials,
                    createdAt: current.createdAt, updatedAt: Date(), validatedAt: Date()))
            }
            LinkCLI.note("\(name) now uses key \(successor.credentials.maskedAPIKey) (was \(current.credentials.maskedAPIKey)).")
        }
    }
}

enum LinkCLI {
    static func checkPositionMode(_ mode: String?) throws {
        if let mode, !LinkExpectation.positionModes.contains(mode) {
            throw CLIError("--expect-pos-mode is net_mode or long_short_mode; got '\(mode)'")
        }
    }

    /// A validator for `credential` with the platform's stated needs (`--expect-pos-mode`, `--expect-futures`).
    static func validator(_ credential: LinkedCredential, positionMode: String?, futures: Bool) throws -> LinkValidator {
        try checkPositionMode(positionMode)
        var validator = LinkValidator(credential)
        validator.expectation = LinkExpectation(positionMode: positionMode, futures: futures)
        return validator
    }

    /// Refuses a URL that is not http(s), and plain http to a host other than this machine unless `--insecure-http`
    /// was given: checked before any credential is read or any request made.
    static func requireAcceptedURL(_ url: String, insecureHTTP: Bool) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw CLIError("--url must be an http(s) address such as https://www.okx.com")
        }
        guard insecureHTTP || !OKXClient.sendsInClear(parsed) else {
            throw CLIError(
                "\(url) is plain http to another machine: the passphrase and every request would cross the network unencrypted. "
                    + "Use https, or pass --insecure-http to accept that (plain http is allowed without it only to this machine: "
                    + "127.0.0.0/8, ::1, localhost)")
        }
    }

    static func readCredential(name: String, url: String, demo: Bool, ed25519: Bool) throws -> LinkedCredential {
        let (apiKey, secret, passphrase) = try SecretPrompt.credentials()
        let credentials = try OKXCredentials(apiKey: apiKey, scheme: ed25519 ? .ed25519 : .hmac, secret: secret, passphrase: passphrase)
        return LinkedCredential(name: name, url: url, demo: demo, credentials: credentials)
    }

    /// A status line for humans, on stderr (stdout carries the report and tables).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func print(_ report: LinkReport, name: String, json: Bool) {
        if json {
            try? Output.json(NamedReport(name: name, report: report))
            return
        }
        Output.line("\(name): key \(report.apiKey) at \(report.url)")
        for check in report.checks {
            let status = check.status.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0)
            Output.line("  \(status)  \(check.check.padding(toLength: 14, withPad: " ", startingAt: 0)) \(check.message)")
            if let fix = check.fix { Output.line("        \(String(repeating: " ", count: 14)) fix: \(fix)") }
        }
        let counts = [LinkCheck.Status.pass, .warn, .fail].map { status in "\(report.checks.filter { $0.status == status }.count) \(status.rawValue)" }
        Output.line("  \(counts.joined(separator: ", "))")
    }

    struct NamedReport: Encodable {
        let name: String
        let report: LinkReport

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(name, forKey: .name)
            try report.encode(to: encoder)
        }

        enum Key: String, CodingKey { case name }
    }

    static func printBalances(of credential: LinkedCredential, json: Bool) async throws {
        let client = credential.client()
        let trading = try await client.balance()
        let funding = try await client.assetBalances()
        var rows = trading.details.map {
            BalanceRow(account: "trading", ccy: $0.ccy, available: text($0.availBal), frozen: text($0.frozenBal), equity: text($0.eq), usd: text($0.eqUsd))
        }
        rows += funding.map {
            BalanceRow(account: "funding", ccy: $0.ccy, available: text($0.availBal), frozen: text($0.frozenBal), equity: text($0.bal), usd: "")
        }
        if json { return try Output.json(BalanceReport(name: credential.name, totalEqUsd: text(trading.totalEq), balances: rows)) }
        guard !rows.isEmpty else { return Output.line("\(credential.name): no balances yet") }
        Output.table(["ACCOUNT", "CCY", "EQUITY", "AVAILABLE", "FROZEN", "USD"], rows.map { [$0.account, $0.ccy, $0.equity, $0.available, $0.frozen, $0.usd] })
        if let total = trading.totalEq { Output.line("Trading account total: \(total) USD") }
    }

    struct BalanceRow: Encodable {
        let account, ccy, available, frozen, equity, usd: String
    }

    struct BalanceReport: Encodable {
        let name: String
        let totalEqUsd: String
        let balances: [BalanceRow]
    }

    private static func text(_ value: Decimal?) -> String { value.map { "\($0)" } ?? "" }
}
