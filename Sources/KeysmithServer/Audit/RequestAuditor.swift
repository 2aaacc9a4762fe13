import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Turns a finished private API request into its audit event and queues it for the batched writer; state-changing
/// requests whose event their own transaction already wrote are skipped. Also raises the alerts a request can
/// cause: permission denied, a burst of authentication failures (per key and per IP), and a key's first use from a
/// new address (keys without an allowlist).
///
/// Never records a secret, passphrase or signature: the passphrase of a failed attempt and an unknown key id are
/// kept only as ``AuditHasher`` HMACs.
public struct RequestAuditor: Sendable {
    private let queue: AuditQueue
    private let hasher: AuditHasher
    private let bursts: AuthFailureBursts
    private let cache: KeyCache
    private let seen = ShardedMap<KeyAddress, Bool>(pruneThreshold: 65_536)
    private let clock: any WallClock

    struct KeyAddress: Hashable, Sendable {
        var apiKey: String
        var ip: IPAddress
    }

    public init(queue: AuditQueue, hasher: AuditHasher, bursts: AuthFailureBursts, cache: KeyCache, clock: any WallClock) {
        self.queue = queue
        self.hasher = hasher
        self.bursts = bursts
        self.cache = cache
        self.clock = clock
    }

    /// Queues the request's event; true when the request is audited (its event queued now or written by its change).
    func record(_ request: Request, context: AppRequestContext, requestID: String, code: String, elapsed: Duration) async -> Bool {
        let facts = context.facts.snapshot
        guard facts.guarded || request.headers[.okAccessKey] != nil else { return false }
        let succeeded = Self.succeeded(code)
        // Each change a successful request made already wrote its event; partial failures are recorded here too.
        if facts.auditedInTransaction && succeeded { return true }
        let now = clock.milliseconds
        let ip = facts.clientIP ?? context.peerAddress
        var record = AuditRecord(
            time: now, requestID: requestID, actor: facts.apiKey ?? "", account: facts.accountUID ?? "",
            action: "\(request.method.rawValue) \(request.uri.path)", clientIP: ip?.description ?? "", result: code,
            latencyMicroseconds: elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        var firstUse: KeyAddressUse?
        if succeeded {
            if let key = facts.apiKey, let ip, facts.unboundKey, isFirstSighting(key, ip) {
                firstUse = KeyAddressUse(apiKey: key, ip: ip.description, at: now)
            }
        } else {
            annotateFailure(&record, request: request, code: code, ip: ip, now: now)
        }
        await queue.add(record, firstUse: firstUse)
        return true
    }

    private func annotateFailure(_ record: inout AuditRecord, request: Request, code: String, ip: IPAddress?, now: Int64) {
        if record.actor.isEmpty, let presented = request.headers[.okAccessKey], !presented.isEmpty {
            if let cached = cache.key(presented) {
                record.actor = cached.key.apiKey
                record.account = cached.key.accountUID
            } else {
                record.details["keyHMAC"] = hasher.hash(presented)
            }
        }
        if code == OKXError.wrongPassphrase.code, let passphrase = request.headers[.okAccessPassphrase] {
            record.details["passphraseHMAC"] = hasher.hash(passphrase)
        }
        if code == OKXError.keyLacksPermission.code {
            record.alert = .permissionDenied
            return
        }
        guard FailedAuthLockout.counts(OKXError(code: code, message: "", httpStatus: 401)) else { return }
        let window = "\(bursts.policy.windowMilliseconds / 1000)s"
        var subjects: [String] = []
        if !record.actor.isEmpty { subjects.append("key:\(record.actor)") }
        if let ip { subjects.append("ip:\(ip)") }
        for subject in subjects {
            if let burst = bursts.recordFailure(subject: subject, now: now) {
                record.alert = .authFailureBurst
                record.details["subject"] = burst.subject
                record.details["failures"] = String(burst.failures)
                record.details["window"] = window
            }
        }
    }

    /// "0", or an order endpoint's "0,0,…" where every item succeeded.
    static func succeeded(_ code: String) -> Bool {
        code == "0" || code.split(separator: ",").allSatisfy { $0 == "0" }
    }

    /// True the first time this process sees the key used from `ip` (the store then decides if it is new for good).
    private func isFirstSighting(_ apiKey: String, _ ip: IPAddress) -> Bool {
        seen.withEntry(KeyAddress(apiKey: apiKey, ip: ip), isStale: { _ in true }) { entry in
            if entry != nil { return false }
            entry = true
            return true
        }
    }
}
