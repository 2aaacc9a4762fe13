import Foundation
import KeysmithCore
import KeysmithStore

/// Managing alert sinks (`keysmith alerts add|list|remove|test|status|retry`). A webhook sink gets a signing
/// secret, shown once; a Slack sink's URL is itself a credential, so it is sealed and listed only redacted.
///
/// ```swift
/// let added = try await sinks.add(name: "ops", kind: .webhook, target: "https://ops.example/hook", events: [.keyCreated],
///                                 origin: origin)
/// added.signingSecret   // "whsec_…", shown to the operator once
/// ```
public struct AlertSinks: Sendable {
    private let store: any AlertStore
    private let audit: any AuditStore
    private let sealer: SecretSealer
    private let clock: any WallClock

    public init(store: any AlertStore, audit: any AuditStore, sealer: SecretSealer, clock: any WallClock) {
        self.store = store
        self.audit = audit
        self.sealer = sealer
        self.clock = clock
    }

    public struct Added: Sendable {
        public let sink: AlertSink
        /// The webhook signing secret (nil for other kinds); never shown again.
        public let signingSecret: String?
    }

    public func add(
        name: String, kind: AlertSink.Kind, target: String, emailFrom: String = "", emailTo: String = "", events: Set<AlertKind>,
        origin: AuditOrigin
    ) async throws(OKXError) -> Added {
        guard !name.isEmpty, name.count <= 50, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw OKXError.parameterError("name").with(message: "Parameter name error: 1–50 letters, digits, - or _")
        }
        var stored = target
        var secret: String?
        var sealed: [UInt8]?
        switch kind {
        case .webhook, .slack:
            guard let url = URL(string: target), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                url.host != nil
            else { throw OKXError.parameterError("url").with(message: "Parameter url error: an http(s) URL is needed") }
            if kind == .webhook {
                let value = "whsec_" + KeyMaterial.randomBytes(24).lowercaseHex
                secret = value
                sealed = try seal(value, name)
            } else {
                sealed = try seal(target, name)
                stored = Self.redacted(target)
            }
        case .email:
            guard Self.relay(target) != nil else {
                throw OKXError.parameterError("smtp").with(message: "Parameter smtp error: the relay is host:port")
            }
            let recipients = emailTo.split(separator: ",").map(String.init)
            guard SMTPClient.isPlainAddress(emailFrom), !recipients.isEmpty, recipients.allSatisfy(SMTPClient.isPlainAddress) else {
                throw OKXError.parameterError("to").with(message: "Parameter to/from error: plain email addresses are needed")
            }
        }
        let sink = AlertSink(
            name: name, kind: kind, target: stored, emailFrom: emailFrom, emailTo: emailTo, events: events, sealedSecret: sealed,
            createdAt: clock.milliseconds)
        do {
            try await store.insert(sink: sink)
            try await audit.append([
                origin.record(
                    at: sink.createdAt, account: "", target: name,
                    details: ["kind": kind.rawValue, "events": events.map(\.rawValue).sorted().joined(separator: ",")])
            ])
        } catch {
            throw error.okxError
        }
        return Added(sink: sink, signingSecret: secret)
    }

    public func list() async throws(OKXError) -> [AlertSink] {
        try await mapped { () async throws(StoreError) in try await store.sinks() }
    }

    public func remove(name: String, origin: AuditOrigin) async throws(OKXError) {
        let removed = try await mapped { () async throws(StoreError) in try await store.removeSink(named: name) }
        guard removed else { throw Self.unknown(name) }
        _ = try await mapped { () async throws(StoreError) in
            try await audit.append([origin.record(at: clock.milliseconds, account: "", target: name)])
        }
    }

    /// Queues a test alert for one sink; the server's worker delivers it (at once if it runs).
    public func test(name: String, origin: AuditOrigin) async throws(OKXError) {
        guard try await mapped({ () async throws(StoreError) in try await store.sink(named: name) }) != nil else {
            throw Self.unknown(name)
        }
        let record = origin.record(at: clock.milliseconds, account: "", target: name)
        try await mapped { () async throws(StoreError) in
            let head = try await audit.append([record])
            try await store.enqueue(record, sequence: head.sequence, kind: .test, sink: name, at: record.time)
        }
    }

    public func status() async throws(OKXError) -> [AlertSinkStatus] {
        try await mapped { () async throws(StoreError) in try await store.deliveryStatus() }
    }

    public func retryDead(sink: String?) async throws(OKXError) -> Int {
        try await mapped { () async throws(StoreError) in try await store.retryDead(sink: sink, at: clock.milliseconds) }
    }

    // MARK: - Helpers

    private func seal(_ value: String, _ name: String) throws(OKXError) -> [UInt8] {
        do { return try sealer.seal(value, for: name) } catch { throw OKXError.systemError }
    }

    private static func unknown(_ name: String) -> OKXError {
        OKXError.parameterError("name").with(message: "Parameter name error: no alert sink named \(name) (see `keysmith alerts list`)")
    }

    /// `host:port` of an SMTP relay.
    package static func relay(_ target: String) -> (String, Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        let host = String(target[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    /// `scheme://host[:port]/…`: a URL as logs and listings show it, without the path that may hold a token.
    public static func redacted(_ url: String) -> String {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "<url>" }
        let port = parsed.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }
}
