import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// What the console pages show, read through the same services as the API and CLI. Never a secret.
struct ConsoleViews {
    let installation: Installation

    static func account(_ account: Account) -> [String: Any] {
        let mode: String
        switch account.level {
        case .spot: mode = "Spot"
        case .spotAndFutures: mode = "Spot and futures"
        default: mode = "Margin (\(account.level.rawValue))"
        }
        var row: [String: Any] = [:]
        row["name"] = name(account)
        row["uid"] = account.uid
        row["mode"] = mode
        row["positionMode"] = account.positionMode == .net ? "One-way" : "Long/short"
        row["deposits"] = account.depositsAllowed ? "allowed" : "off"
        row["label"] = account.label
        row["frozen"] = account.frozen
        return row
    }

    /// The values of the one page that shows a key's secret (created or rotated).
    static func oneTimeKey(_ title: String, _ credentials: KeyCredentials, _ key: APIKey, of account: Account) -> [String: Any] {
        var shown: [String: Any] = ["title": title]
        shown["apiKey"] = credentials.apiKey
        shown["secretKey"] = credentials.secretKey
        shown["passphrase"] = credentials.passphrase
        shown["account"] = name(account)
        shown["perm"] = key.permissions.okxString
        shown["ip"] = key.allowlist.okxString.isEmpty ? "(any)" : key.allowlist.okxString
        return shown
    }

    static func name(_ account: Account) -> String {
        account.isMaster ? "master" : account.name
    }

    func dashboard() async throws -> [String: Any] {
        let master = try await installation.accounts.master()
        let accounts = [master] + (try await installation.accounts.subAccounts())
        let scales = (try await installation.ledger.currencies()).scales
        // 128-bit sums: the balances of many accounts may add up to more than one balance can hold.
        var totals: [String: (available: Int128, frozen: Int128)] = [:]
        var rows: [[String: Any]] = []
        for account in accounts {
            let balances = try await installation.ledger.balances(of: account)
            var perCurrency: [String: Int128] = [:]
            for balance in balances {
                totals[balance.currency, default: (0, 0)].available += Int128(balance.available)
                totals[balance.currency, default: (0, 0)].frozen += Int128(balance.frozen)
                perCurrency[balance.currency, default: 0] += Int128(balance.available) + Int128(balance.frozen)
            }
            let keys = try await installation.keys.keys(of: account).count
            var row = Self.account(account)
            row["keys"] = String(keys)
            var parts: [String] = []
            for (code, units) in perCurrency.sorted(by: { $0.key < $1.key }) where units != 0 {
                parts.append("\(Amount.text(units: units, scale: scales[code] ?? 8)) \(code)")
            }
            row["balances"] = parts.joined(separator: ", ")
            rows.append(row)
        }
        var events: [[String: Any]] = []
        for event in try await installation.auditStore.search(AuditQuery(limit: 200)) where !event.record.action.hasPrefix("GET ") {
            guard events.count < 15 else { break }
            let record = event.record
            events.append(["time": Self.time(record.time), "actor": record.actor, "action": record.action, "target": record.target, "result": record.result])
        }
        var totalRows: [[String: Any]] = []
        for (code, value) in totals.sorted(by: { $0.key < $1.key }) {
            let scale = scales[code] ?? 8
            let available = Amount.text(units: value.available, scale: scale)
            let frozen = Amount.text(units: value.frozen, scale: scale)
            totalRows.append(["ccy": code, "available": available, "frozen": frozen])
        }
        return ["accounts": rows, "totals": totalRows, "events": events]
    }

    /// One row per account and currency with a balance, funding and trading apart.
    func balanceRows() async throws -> [[String: Any]] {
        let scales = (try await installation.ledger.currencies()).scales
        var rows: [[String: Any]] = []
        for account in [try await installation.accounts.master()] + (try await installation.accounts.subAccounts()) {
            for balance in try await installation.ledger.balances(of: account) where balance.available != 0 || balance.frozen != 0 {
                let scale = scales[balance.currency] ?? 8
                var row: [String: Any] = [:]
                row["account"] = Self.name(account)
                row["kind"] = balance.kind == .funding ? "Funding" : "Trading"
                row["ccy"] = balance.currency
                row["available"] = Amount(units: balance.available, scale: scale).text
                row["frozen"] = Amount(units: balance.frozen, scale: scale).text
                rows.append(row)
            }
        }
        return rows
    }

    /// Withdrawals of every account (newest first), optionally only those in `state`.
    func withdrawalRows(state: WithdrawalState?) async throws -> [[String: Any]] {
        let scales = (try await installation.ledger.currencies()).scales
        var names: [String: String] = [:]
        for account in [try await installation.accounts.master()] + (try await installation.accounts.subAccounts()) {
            names[account.uid] = Self.name(account)
        }
        var rows: [[String: Any]] = []
        for record in try await installation.withdrawals.withdrawals(of: nil, state: state, limit: 50) {
            var row: [String: Any] = [:]
            row["id"] = String(record.id)
            row["account"] = names[record.account] ?? record.account
            row["ccy"] = record.currency
            row["amount"] = Amount(units: record.amount, scale: scales[record.currency] ?? 8).text
            row["address"] = record.address
            row["state"] = record.state.name
            row["time"] = Self.time(record.createdAt)
            row["pending"] = record.state == .pending
            rows.append(row)
        }
        return rows
    }

    func keys() async throws -> [[String: Any]] {
        let master = try await installation.accounts.master()
        var rows: [[String: Any]] = []
        for account in [master] + (try await installation.accounts.subAccounts()) {
            for key in try await installation.keys.keys(of: account, includeRevoked: true) {
                let expiry = key.expiry(lastUsedAt: installation.usage.lastUse(key.apiKey)?.at)
                var lastUsed = "never"
                if let at = key.lastUsedAt { lastUsed = Self.time(at) + (key.lastUsedIP.map { " from \($0)" } ?? "") }
                var row: [String: Any] = [:]
                row["label"] = key.label
                row["account"] = Self.name(account)
                row["apiKey"] = key.apiKey
                row["perm"] = key.permissions.okxString
                row["ip"] = key.allowlist.okxString.isEmpty ? "any" : key.allowlist.okxString
                row["app"] = key.purpose.app ?? ""
                row["lastUsed"] = lastUsed
                row["expires"] = expiry.map { Self.time($0.at) } ?? "never"
                row["revoked"] = key.revokedAt != nil
                rows.append(row)
            }
        }
        return rows
    }

    func key(_ apiKey: String) async throws -> APIKey? {
        guard let owner = try? await installation.keys.owner(of: apiKey) else { return nil }
        return try await installation.keys.keys(of: owner, includeRevoked: true).first { $0.apiKey == apiKey }
    }

    func accountChoices(selected: String?) async throws -> [[String: Any]] {
        let subs = try await installation.accounts.subAccounts()
        let chosen = selected ?? subs.last?.name ?? "master"
        var choices: [[String: Any]] = [["value": "master", "name": "master", "selected": chosen == "master"]]
        for sub in subs { choices.append(["value": sub.name, "name": sub.name, "selected": chosen == sub.name]) }
        return choices
    }

    func appChoices(selected: String?) async throws -> [[String: Any]] {
        var choices: [[String: Any]] = []
        for app in try await installation.apps.apps() {
            choices.append(["name": app.name, "ips": app.allowlist.okxString, "selected": app.name == selected])
        }
        return choices
    }

    static func time(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
