/// What happened, before it joins the audit chain: one API request, console action or CLI action.
///
/// Fields are plain strings ("" when not applicable) so that the canonical form is unambiguous and searching is
/// simple. Never a secret, passphrase, signature or body field that holds one: values worth testing later (the
/// passphrase a failed attempt used, an unknown key id) go into ``details`` only as an ``AuditHasher`` HMAC.
///
/// ```swift
/// let record = AuditRecord(time: now, requestID: "r1", actor: "cli:alice", action: "apikey.revoke",
///                          target: apiKey, result: "0", alert: .keyRevoked)
/// ```
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Unix milliseconds.
    public var time: Int64
    public var requestID: String
    /// An API key's public id, `cli:USER`, `console:EMAIL` or `system`.
    public var actor: String
    /// The uid of the account acted for.
    public var account: String
    /// `METHOD /path` for API requests, a dotted command name (`apikey.revoke`) for CLI and system actions.
    public var action: String
    /// What was acted on (an API key id, a sub-account name, a sink name).
    public var target: String
    public var clientIP: String
    /// The OKX code answered (`0` on success); batch endpoints append each item's `sCode`.
    public var result: String
    public var latencyMicroseconds: Int64
    /// Extra non-secret facts, e.g. `perm`, `passphraseHMAC`.
    public var details: [String: String]
    /// The alert this event raises, if any (not part of the hashed form: alerts are a delivery concern).
    public var alert: AlertKind?

    public init(
        time: Int64, requestID: String = "", actor: String, account: String = "", action: String, target: String = "",
        clientIP: String = "", result: String = "0", latencyMicroseconds: Int64 = 0, details: [String: String] = [:],
        alert: AlertKind? = nil
    ) {
        self.time = time
        self.requestID = requestID
        self.actor = actor
        self.account = account
        self.action = action
        self.target = target
        self.clientIP = clientIP
        self.result = result
        self.latencyMicroseconds = latencyMicroseconds
        self.details = details
        self.alert = alert
    }

    /// True when the request or action failed (any code but `0`).
    public var failed: Bool { result != "0" && !result.hasPrefix("0,") }
}

/// Who and where a state-changing action came from, handed to the services so they can write its audit event in
/// the same transaction as the change.
///
/// ```swift
/// let origin = AuditOrigin(actor: "cli:alice", action: "apikey.create")
/// let record = origin.record(at: now, account: uid, target: apiKey, alert: .keyCreated)
/// ```
public struct AuditOrigin: Sendable, Hashable {
    public var actor: String
    public var action: String
    public var requestID: String
    public var clientIP: String
    /// When handling started, in `ContinuousClock` terms, for the latency field.
    public var started: ContinuousClock.Instant

    public init(
        actor: String, action: String, requestID: String = "", clientIP: String = "", started: ContinuousClock.Instant = .now
    ) {
        self.actor = actor
        self.action = action
        self.requestID = requestID
        self.clientIP = clientIP
        self.started = started
    }

    /// The same origin doing another action (one command that does several things).
    public func with(action: String) -> AuditOrigin {
        var copy = self
        copy.action = action
        return copy
    }

    /// Background work of the server itself (expiry, cool-downs).
    public static func system(_ action: String) -> AuditOrigin { AuditOrigin(actor: "system", action: action) }

    /// The successful event for this origin.
    public func record(
        at time: Int64, account: String, target: String, details: [String: String] = [:], alert: AlertKind? = nil
    ) -> AuditRecord {
        let elapsed = ContinuousClock.now - started
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        return AuditRecord(
            time: time, requestID: requestID, actor: actor, account: account, action: action, target: target,
            clientIP: clientIP, result: "0", latencyMicroseconds: micros, details: details, alert: alert)
    }
}
