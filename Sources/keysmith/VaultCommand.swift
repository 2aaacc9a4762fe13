import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithClient

/// `keysmith vault init|list|remove|export-public`: the encrypted file of linked credentials. Never prints a secret.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "The encrypted credential vault ($KEYSMITH_VAULT, default ~/.keysmith/vault).",
        subcommands: [Init.self, LinkCommand.List.self, LinkCommand.Remove.self, ExportPublic.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an empty vault and, unless --passphrase, a random key file ($KEYSMITH_VAULT_KEY, default ~/.keysmith/vault.key), both mode 0600.")
        @Flag(help: "Protect the vault with a passphrase (scrypt) instead of a key file; read from KEYSMITH_VAULT_PASSPHRASE or a prompt.")
        var passphrase = false

        func run() async throws {
            let location = VaultLocation.standard()
            let protection: VaultProtection = passphrase ? .passphrase(try SecretPrompt.vaultPassphrase(confirm: true)) : .keyFile
            try CredentialVault.initialize(location, protection: protection)
            var text = "Created the vault \(location.vault.path)"
            if !passphrase, case .file(let key) = location.key { text += " with its key \(key.path) — back the key up; without it the vault cannot be opened" }
            Output.line(text + ".")
        }
    }

    struct ExportPublic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-public",
            abstract: "Print the non-secret part of every credential as JSON (name, URL, key id, scheme, dates), for inventories.")

        func run() async throws {
            let location = VaultLocation.standard()
            let vault = try CredentialVault.open(location, passphrase: try VaultCLI.passphraseIfNeeded(location))
            try Output.json(vault.credentials.map(\.publicInfo))
        }
    }
}

enum VaultCLI {
    /// The passphrase when the vault is protected by one, else nil (no prompt for key-file vaults).
    static func passphraseIfNeeded(_ location: VaultLocation) throws -> String? {
        guard let data = FileManager.default.contents(atPath: location.vault.path),
            String(decoding: data.prefix(512), as: UTF8.self).contains("\"scrypt\"")
        else { return nil }
        return try SecretPrompt.vaultPassphrase(confirm: false)
    }

    static func list(json: Bool) throws {
        let location = VaultLocation.standard()
        let vault = try CredentialVault.open(location, passphrase: try passphraseIfNeeded(location))
        if json {
            return try Output.json(vault.credentials.map { Row(name: $0.name, url: $0.url, apiKey: $0.credentials.maskedAPIKey, scheme: $0.credentials.scheme.rawValue, demo: $0.demo, validatedAt: $0.validatedAt.map { $0.ISO8601Format() } ?? "") })
        }
        guard !vault.credentials.isEmpty else { return Output.line("The vault is empty (add a key with: keysmith link add NAME --url URL)") }
        Output.table(
            ["NAME", "URL", "API KEY", "SCHEME", "DEMO", "VALIDATED"],
            vault.credentials.map {
                [$0.name, $0.url, $0.credentials.maskedAPIKey, $0.credentials.scheme.rawValue, $0.demo ? "yes" : "no", $0.validatedAt.map { $0.ISO8601Format() } ?? "never"]
            })
    }

    static func remove(_ name: String) throws {
        let location = VaultLocation.standard()
        let removed = try CredentialVault.update(location, passphrase: try passphraseIfNeeded(location)) { vault in try vault.remove(named: name) }
        Output.line("Removed \(name) (key \(removed.credentials.maskedAPIKey)) from the vault; revoke the key on the exchange if it is no longer needed.")
    }

    struct Row: Encodable {
        let name, url, apiKey, scheme: String
        let demo: Bool
        let validatedAt: String
    }
}
