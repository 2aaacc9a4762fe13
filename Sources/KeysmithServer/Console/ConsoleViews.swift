import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// How the console shows accounts, keys, times and choices. Never a secret but on the one page that shows a new key's.
enum ConsoleViews {
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

    static func time(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func ipList(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).joined(separator: ",")
    }

    /// The accounts a form offers (master first), with `selected` (else the newest sub-account) chosen.
    static func accountChoices(_ accounts: AccountService, selected: String?) async throws -> [[String: Any]] {
        let subs = try await accounts.subAccounts()
        let chosen = selected ?? subs.last?.name ?? "master"
        var choices: [[String: Any]] = [["value": "master", "name": "master", "selected": chosen == "master"]]
        for sub in subs { choices.append(["value": sub.name, "name": sub.name, "selected": chosen == sub.name]) }
        return choices
    }
}
