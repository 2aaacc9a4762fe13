import Foundation

/// One check of a linked key, as `keysmith link validate` prints it: pass, warn or fail, and the fix in one line.
public struct LinkCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, Comparable {
        case pass, warn, fail

        public static func < (lhs: Self, rhs: Self) -> Bool {
            [Self.pass, .warn, .fail].firstIndex(of: lhs)! < [Self.pass, .warn, .fail].firstIndex(of: rhs)!
        }
    }

    /// A stable identifier: credentials, permissions, ip-binding, account, account-mode, position-mode, expiry, clock-skew.
    public let check: String
    public let status: Status
    public let message: String
    /// What to do about a warning or failure; nil for a pass.
    public let fix: String?

    public init(_ check: String, _ status: Status, _ message: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.message = message
        self.fix = status == .pass ? nil : fix
    }
}

/// Every check's result for one key. `ok` is false when any check failed; warnings never block linking.
public struct LinkReport: Codable, Sendable, Equatable {
    public let url: String
    public let apiKey: String
    public let checks: [LinkCheck]

    public var ok: Bool { !checks.contains { $0.status == .fail } }
    public var worst: LinkCheck.Status { checks.map(\.status).max() ?? .pass }

    public func check(_ id: String) -> LinkCheck? { checks.first { $0.check == id } }

    private enum CodingKeys: String, CodingKey { case url, apiKey, checks, ok }

    public init(url: String, apiKey: String, checks: [LinkCheck]) {
        self.url = url
        self.apiKey = apiKey
        self.checks = checks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        apiKey = try c.decode(String.self, forKey: .apiKey)
        checks = try c.decode([LinkCheck].self, forKey: .checks)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(url, forKey: .url)
        try c.encode(apiKey, forKey: .apiKey)
        try c.encode(checks, forKey: .checks)
        try c.encode(ok, forKey: .ok)
    }
}

/// What the platform a key is linked to needs of its account: perpetual swaps (an account mode above spot), and
/// a position mode (freqtrade trades one-way; some platforms want long/short). A need the account does not meet is
/// a failure; without a stated need the validator prefers the seed's one-way mode and only warns.
public struct LinkExpectation: Sendable, Equatable {
    /// `net_mode` or `long_short_mode`; nil: no stated need.
    public var positionMode: String?
    /// The platform trades perpetual swaps.
    public var futures: Bool

    public init(positionMode: String? = nil, futures: Bool = false) {
        self.positionMode = positionMode
        self.futures = futures
    }

    /// Position modes by OKX's names.
    public static let positionModes = ["net_mode", "long_short_mode"]
}

/// Checks a key the way a platform should before trusting it (seeds 000 and 002): the credentials work; the key
/// cannot withdraw; it is bound to IPs; it belongs to a sub-account made for the platform; the account trades spot
/// and futures in one-way position mode; it is not about to expire; this machine's clock agrees with the server.
public struct LinkValidator: Sendable {
    public let client: OKXClient
    public let apiKey: String
    /// Keys expiring sooner than this are reported as a warning.
    public var expiryWarning: Duration = .seconds(7 * 86_400)
    /// What the platform needs of the account's modes.
    public var expectation = LinkExpectation()
    private let now: @Sendable () -> Date

    public init(client: OKXClient, apiKey: String, now: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.apiKey = apiKey
        self.now = now
    }

    public init(_ credential: LinkedCredential) {
        self.init(client: credential.client(), apiKey: credential.credentials.apiKey)
    }

    public func validate() async -> LinkReport {
        var checks: [LinkCheck] = []
        let masked = OKXCredentials.mask(apiKey)
        func report() -> LinkReport { LinkReport(url: client.configuration.baseURL, apiKey: masked, checks: checks) }

        // The clock first: the offset it measures also corrects every signature that follows.
        do {
            let offset = try await client.synchronizeClock()
            checks.append(clockCheck(offset))
        } catch {
            checks.append(LinkCheck(
                "credentials", .fail, "cannot reach \(client.configuration.baseURL): \(error)",
                fix: "check the URL and that this machine can reach the exchange"))
            return report()
        }

        let config: AccountConfiguration
        do {
            config = try await client.accountConfiguration()
            let label = config.label.isEmpty ? "" : " (label \"\(config.label)\")"
            checks.insert(LinkCheck("credentials", .pass, "key \(masked)\(label) is valid"), at: 0)
        } catch {
            checks.insert(credentialsFailure(error), at: 0)
            return report()
        }

        checks.append(contentsOf: [
            permissionsCheck(config), ipCheck(config), accountCheck(config), accountModeCheck(config), positionModeCheck(config),
        ])
        checks.append(await expiryCheck())
        // Keep the clock check last, where a reader expects the environment's notes.
        checks.append(checks.remove(at: 1))
        return report()
    }

    private func credentialsFailure(_ error: any Error) -> LinkCheck {
        let reason = "\(error)"
        switch (error as? OKXClientError)?.code {
        case "50110":
            return LinkCheck("credentials", .fail, "refused from this machine's IP: \(reason)",
                             fix: "add this machine's public IP address to the key's IP allowlist")
        case "50111", "50113", "50105", "50119", "50100", "50101":
            return LinkCheck("credentials", .fail, "the exchange rejected the credentials: \(reason)",
                             fix: "copy the API key, secret and passphrase again exactly as shown; if the secret is lost, create a new key")
        case "50102", "50112":
            return LinkCheck("credentials", .fail, "the exchange refused this machine's time: \(reason)",
                             fix: "synchronise this machine's clock (NTP)")
        default:
            return LinkCheck("credentials", .fail, "the key could not be checked: \(reason)",
                             fix: "check the URL, the demo setting and that the key is still active")
        }
    }

    private func permissionsCheck(_ config: AccountConfiguration) -> LinkCheck {
        let shown = config.perm.isEmpty ? "read_only" : config.perm.joined(separator: ",")
        if config.canWithdraw {
            return LinkCheck("permissions", .fail, "the key can withdraw funds (\(shown))",
                             fix: "create a key with Read or Trade permission only; a linked platform never needs Withdraw")
        }
        return LinkCheck("permissions", .pass, config.canTrade ? "read and trade, no withdraw (\(shown))" : "read only (\(shown))")
    }

    private func ipCheck(_ config: AccountConfiguration) -> LinkCheck {
        if config.ip.isEmpty {
            return LinkCheck("ip-binding", .warn, "the key is not bound to any IP address, so it works from anywhere",
                             fix: "bind the key to the platform's IP addresses (unbound trade keys also expire after 14 days unused)")
        }
        return LinkCheck("ip-binding", .pass, "bound to \(config.ip.count) IP address\(config.ip.count == 1 ? "" : "es") (\(config.ip.joined(separator: ",")))")
    }

    private func accountCheck(_ config: AccountConfiguration) -> LinkCheck {
        if config.isMasterAccount {
            return LinkCheck("account", .warn, "the key belongs to the master account (uid \(config.uid))",
                             fix: "create a sub-account for this platform and link a key of that sub-account instead")
        }
        return LinkCheck("account", .pass, "sub-account uid \(config.uid) of master \(config.mainUid)")
    }

    private func accountModeCheck(_ config: AccountConfiguration) -> LinkCheck {
        let names = ["1": "spot", "2": "spot and futures", "3": "multi-currency margin", "4": "portfolio margin"]
        guard let name = names[config.acctLv] else {
            return LinkCheck("account-mode", .warn, "unknown account mode \"\(config.acctLv)\"",
                             fix: "set the account mode to \"Spot and futures\"")
        }
        let shown = "\(name) (acctLv \(config.acctLv))"
        guard config.acctLv == "1" else { return LinkCheck("account-mode", .pass, shown + (expectation.futures ? ", trades perpetual swaps" : "")) }
        let fix = "set the account mode to \"Spot and futures\" (acctLv 2, POST /api/v5/account/set-account-level)"
        if expectation.futures {
            return LinkCheck("account-mode", .fail, "\(shown): the account cannot trade the perpetual swaps this platform needs", fix: fix)
        }
        return LinkCheck("account-mode", .warn, "\(shown): the account trades spot only", fix: fix)
    }

    private func positionModeCheck(_ config: AccountConfiguration) -> LinkCheck {
        let names = ["net_mode": "one-way (net_mode)", "long_short_mode": "long/short (long_short_mode)"]
        guard let shown = names[config.posMode] else {
            return LinkCheck("position-mode", .warn, "unknown position mode \"\(config.posMode)\"",
                             fix: "switch the position mode to One-way (net_mode)")
        }
        let switchTo = { (mode: String) in
            "switch the account's position mode to \(names[mode] ?? mode) with no open positions or orders (POST /api/v5/account/set-position-mode)"
        }
        if let wanted = expectation.positionMode {
            if wanted == config.posMode { return LinkCheck("position-mode", .pass, "\(shown), as the platform expects") }
            return LinkCheck(
                "position-mode", .fail, "\(shown), but the platform expects \(names[wanted] ?? wanted)", fix: switchTo(wanted))
        }
        if config.posMode == "net_mode" { return LinkCheck("position-mode", .pass, shown) }
        return LinkCheck("position-mode", .warn, shown,
                         fix: switchTo("net_mode") + ", or state the platform's need with --expect-pos-mode long_short_mode")
    }

    private func expiryCheck() async -> LinkCheck {
        guard let info = try? await client.keyInfo() else {
            return LinkCheck("expiry", .pass, "the server does not report expiry or last use")
        }
        let lastUse = info.lastUsedTs.map { "; last used \($0.ISO8601Format())\(info.lastUsedIp.isEmpty ? "" : " from \(info.lastUsedIp)")" } ?? ""
        guard let expiry = info.expTime else { return LinkCheck("expiry", .pass, "does not expire\(lastUse)") }
        let why = info.expiryReason == "inactivity" ? " unless used again (14 days unused)" : ""
        let remaining = expiry.timeIntervalSince(now())
        if remaining < Double(expiryWarning.components.seconds) {
            let fix = info.expiryReason == "inactivity"
                ? "bind the key to IP addresses, or use it at least every 14 days"
                : "rotate the key before it expires (then: keysmith link rotate)"
            return LinkCheck("expiry", .warn, "expires \(expiry.ISO8601Format())\(why)\(lastUse)", fix: fix)
        }
        return LinkCheck("expiry", .pass, "expires \(expiry.ISO8601Format())\(why)\(lastUse)")
    }

    private func clockCheck(_ offset: Duration) -> LinkCheck {
        let milliseconds = offset.milliseconds.magnitude
        let text = "this machine's clock is \(milliseconds) ms \(offset < .zero ? "ahead of" : "behind") the server"
        if milliseconds <= 1_000 { return LinkCheck("clock-skew", .pass, text) }
        let consequence = milliseconds > 30_000 ? "; unsynchronised requests are refused (50102), this client corrects for it" : "; this client corrects for it"
        return LinkCheck("clock-skew", .warn, text + consequence, fix: "synchronise this machine's clock (NTP)")
    }
}
