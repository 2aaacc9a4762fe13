import KeysmithCore
import NIOCore

/// The parts of a request that OKX authentication reads, exactly as received.
public struct SignedRequest: Sendable {
    public var accessKey: String?
    public var signature: String?
    public var timestamp: String?
    public var passphrase: String?
    /// `x-simulated-trading`; nil when absent (which means live).
    public var simulatedTrading: String?
    /// Uppercase HTTP method.
    public var method: String
    /// The request target as sent: path plus query, no scheme or host.
    public var target: String
    public var body: ByteBuffer
    public var clientIP: IPAddress?
    /// The trusted proxy whose `X-Forwarded-For` named ``clientIP``; nil when it is the connection's own address.
    public var forwardedBy: IPAddress?
    /// The first authentication header that appeared more than once, if any: such a request is refused, so a proxy
    /// that reads one copy can never see a different request than the one Keysmith verified.
    public var repeatedHeader: String?
    /// A GET or HEAD that carries a body: OKX signs those with an empty body, so their body would be unsigned.
    public var hasUnsignedBody = false

    public init(
        accessKey: String?, signature: String?, timestamp: String?, passphrase: String?, simulatedTrading: String?,
        method: String, target: String, body: ByteBuffer, clientIP: IPAddress?
    ) {
        self.accessKey = accessKey
        self.signature = signature
        self.timestamp = timestamp
        self.passphrase = passphrase
        self.simulatedTrading = simulatedTrading
        self.method = method
        self.target = target
        self.body = body
        self.clientIP = clientIP
    }
}

/// A request that passed authentication: its key, and what it signed (the replay record of a POST).
public struct Authenticated: Sendable {
    public let key: CachedKey
    /// Set for POSTs: the fingerprint recorded against replays.
    public let signedContent: SignedContent?
}

/// Authenticates OKX v5 private requests against the in-memory ``KeyCache``.
///
/// Checks run in this order and the first failure answers (contract-notes): per-IP failed-auth lockout (50011) →
/// headers present (50103, 50106, 50107, 50104) → key known and active (50111) → timestamp format (50112) and
/// ±30 s window (50102) → signature (50113, canonical base64 only) → passphrase (50105) → IP allowlist (50110) → replay of a POST
/// (50042, keyed on the signed content, not the signature text) → account frozen (50100) → environment (50101) → permission (50120) → the key's rate limit for the endpoint family (50011).
/// A repeated authentication header is refused with 50114 before anything else is read.
/// Failures up to and including the IP allowlist count towards the caller IP's lockout.
///
/// ```swift
/// let authenticated = try authenticator.authenticate(request, now: clock.milliseconds, requiring: .trade, family: family)
/// ```
public struct RequestAuthenticator: Sendable {
    private let cache: KeyCache
    private let passphrases: PassphraseVerifier
    private let limiter: RateLimiter
    private let lockout: FailedAuthLockout
    private let replay: ReplayGuard
    private let usage: UsageRecorder

    public init(
        cache: KeyCache, passphrases: PassphraseVerifier, limiter: RateLimiter = RateLimiter(),
        lockout: FailedAuthLockout = FailedAuthLockout(), replay: ReplayGuard = ReplayGuard(),
        usage: UsageRecorder = UsageRecorder()
    ) {
        self.cache = cache
        self.passphrases = passphrases
        self.limiter = limiter
        self.lockout = lockout
        self.replay = replay
        self.usage = usage
    }

    /// True when a key id was sent but no cached key has it (never created, revoked, or not yet loaded).
    public func isUnknown(_ accessKey: String?) -> Bool {
        guard let accessKey, !accessKey.isEmpty else { return false }
        return cache.key(accessKey) == nil
    }

    public func authenticate(
        _ request: SignedRequest, now: Int64, requiring permission: Permissions, family: EndpointFamily = EndpointFamily.other
    ) throws(OKXError) -> Authenticated {
        if let ip = request.clientIP, let retry = lockout.retryAfter(ip, now: now) {
            throw OKXError.tooManyFailedAttempts.retrying(after: retry)
        }
        let verified: Authenticated
        do {
            verified = try verify(request, now: now)
        } catch {
            if let ip = request.clientIP, FailedAuthLockout.counts(error) { lockout.recordFailure(ip, now: now) }
            throw error
        }
        let cached = verified.key
        guard !cached.account.frozen else { throw OKXError.apiFrozen }
        guard KeyEnvironment(simulatedTradingHeader: request.simulatedTrading) == cached.key.environment else {
            throw OKXError.environmentMismatch.with(message: AuthenticationHelp.environment(of: cached.key))
        }
        guard cached.key.permissions.contains(permission) else { throw OKXError.keyLacksPermission }
        if let retry = limiter.take(subject: cached.key.apiKey, family: family, override: cached.key.rateLimit, now: now) {
            throw OKXError.tooManyRequests.retrying(after: retry)
        }
        usage.record(apiKey: cached.key.apiKey, ip: request.clientIP, at: now)
        return verified
    }

    /// Proves the request came from the key's holder, from an allowed address, and is not a replayed POST.
    private func verify(_ request: SignedRequest, now: Int64) throws(OKXError) -> Authenticated {
        if let repeated = request.repeatedHeader {
            throw OKXError.invalidAuthorization.with(message: "Invalid authorization: header \(repeated) was sent more than once.")
        }
        if request.hasUnsignedBody {
            throw OKXError.invalidSignature.with(message: "Invalid signature: a \(request.method) request is signed without a body and must not carry one.")
        }
        guard let accessKey = request.accessKey, !accessKey.isEmpty else { throw OKXError.missingAccessKey }
        guard let signature = request.signature, !signature.isEmpty else { throw OKXError.missingSignature }
        guard var timestamp = request.timestamp, !timestamp.isEmpty else { throw OKXError.missingTimestamp }
        guard var passphrase = request.passphrase, !passphrase.isEmpty else { throw OKXError.missingPassphrase }

        guard let cached = cache.key(accessKey) else { throw OKXError.invalidAccessKey }
        // Only unbound trade/withdraw keys expire when unused: only they need their latest use.
        let lastUse = cached.key.expiresWhenUnused ? usage.lastUse(accessKey)?.at : nil
        switch cached.key.status(at: now, lastUsedAt: lastUse) {
        case .active: break
        case .expired: throw OKXError.expiredAccessKey
        case .revoked: throw OKXError.invalidAccessKey
        }

        let signed = timestamp.withUTF8 { OKXTimestamp.parse(UnsafeRawBufferPointer($0)) }
        guard let signed else { throw OKXError.invalidTimestamp }
        guard abs(now - signed) <= OKXTimestamp.window else {
            throw OKXError.timestampExpired.with(message: AuthenticationHelp.skew(signedAt: signed, now: now))
        }

        let isPost = request.method == "POST"
        var method = request.method, target = request.target
        let (valid, content) = timestamp.withUTF8 { ts in
            method.withUTF8 { m in
                target.withUTF8 { t in
                    request.body.withUnsafeReadableBytes { b in
                        let (ts, m, t) = (UnsafeRawBufferPointer(ts), UnsafeRawBufferPointer(m), UnsafeRawBufferPointer(t))
                        guard cached.signer.isValid(signature: signature, timestamp: ts, method: m, requestPath: t, body: b) else {
                            return (false, SignedContent?.none)
                        }
                        // Only POSTs are guarded against replays: only they pay for the fingerprint.
                        let content = isPost ? SignedContent(apiKey: accessKey, timestamp: ts, method: m, requestPath: t, body: b) : nil
                        return (true, content)
                    }
                }
            }
        }
        guard valid else {
            throw OKXError.invalidSignature.with(message: AuthenticationHelp.prehash(of: request, timestamp: timestamp, algorithm: cached.key.algorithm))
        }

        let passphraseMatches = passphrase.withUTF8 {
            passphrases.matches(UnsafeRawBufferPointer($0), verifier: cached.passphraseVerifier)
        }
        guard passphraseMatches else { throw OKXError.wrongPassphrase }

        if !cached.key.allowlist.isEmpty {
            guard let ip = request.clientIP, cached.key.allowlist.permits(ip) else {
                throw OKXError.ipNotAllowed(request.clientIP?.description ?? "unknown").with(message: AuthenticationHelp.address(of: request))
            }
        }
        if let content, !replay.accept(content, signedAt: signed, now: now) {
            throw OKXError.repeatedRequest
        }
        return Authenticated(key: cached, signedContent: content)
    }
}

extension RequestAuthenticator {
    /// The fields of a WebSocket `login` argument, as sent (the timestamp as text, whether it came as a JSON string
    /// or a number).
    public struct Login: Sendable {
        public var apiKey: String
        public var passphrase: String
        public var timestamp: String
        public var sign: String

        public init(apiKey: String, passphrase: String, timestamp: String, sign: String) {
            self.apiKey = apiKey
            self.passphrase = passphrase
            self.timestamp = timestamp
            self.sign = sign
        }
    }

    /// A WebSocket `op login`, with the checks of a signed request and OKX's WebSocket codes: the caller IP's
    /// failed-auth lockout, the key (60032 unknown, revoked or expired), the timestamp in whole seconds (60004) within
    /// ±30 s (60006), `sign` = base64(HMAC-SHA256 or Ed25519 of `timestamp + "GET" + "/users/self/verify"`) (60007),
    /// the passphrase (60024), the IP allowlist (60009), then the frozen account (60009) and the environment of the
    /// endpoint (50101). Failures up to the allowlist count towards the lockout; a login is a use of the key.
    public func login(_ login: Login, clientIP: IPAddress?, environment: KeyEnvironment, now: Int64) throws(OKXError) -> CachedKey {
        if let ip = clientIP, let retry = lockout.retryAfter(ip, now: now) {
            throw OKXError.webSocketLoginFailed.with(
                message: "Login failed: too many failed attempts from this address; retry in \(max(1, retry / 1000)) s")
        }
        let cached: CachedKey
        do {
            cached = try verifyLogin(login, clientIP: clientIP, now: now)
        } catch {
            if let ip = clientIP { lockout.recordFailure(ip, now: now) }
            throw error
        }
        guard !cached.account.frozen else { throw OKXError.webSocketLoginFailed.with(message: "Login failed: the account is frozen") }
        guard cached.key.environment == environment else {
            throw OKXError.environmentMismatch.with(message: AuthenticationHelp.environment(of: cached.key))
        }
        usage.record(apiKey: cached.key.apiKey, ip: clientIP, at: now)
        return cached
    }

    /// A trading request on a WebSocket logged in with `apiKey`: the key as this node's cache holds it now (60032
    /// revoked or expired), the frozen account (50100), the IP allowlist (50110), `permission` (50120) and the rate
    /// limit of `family`, the budget REST's endpoint of that family shares; a use of the key.
    public func authorize(
        _ apiKey: String, clientIP: IPAddress?, requiring permission: Permissions, family: EndpointFamily, now: Int64
    ) throws(OKXError) -> CachedKey {
        guard let cached = cache.key(apiKey) else { throw OKXError.webSocketKeyDoesNotExist }
        let lastUse = cached.key.expiresWhenUnused ? usage.lastUse(apiKey)?.at : nil
        guard cached.key.status(at: now, lastUsedAt: lastUse) == .active else { throw OKXError.webSocketKeyDoesNotExist }
        guard !cached.account.frozen else { throw OKXError.apiFrozen }
        if !cached.key.allowlist.isEmpty {
            guard let ip = clientIP, cached.key.allowlist.permits(ip) else { throw OKXError.ipNotAllowed(clientIP?.description ?? "unknown") }
        }
        guard cached.key.permissions.contains(permission) else { throw OKXError.keyLacksPermission }
        if let retry = limiter.take(subject: apiKey, family: family, override: cached.key.rateLimit, now: now) {
            throw OKXError.tooManyRequests.retrying(after: retry)
        }
        usage.record(apiKey: apiKey, ip: clientIP, at: now)
        return cached
    }

    private func verifyLogin(_ login: Login, clientIP: IPAddress?, now: Int64) throws(OKXError) -> CachedKey {
        guard !login.apiKey.isEmpty, let cached = cache.key(login.apiKey) else { throw OKXError.webSocketKeyDoesNotExist }
        let lastUse = cached.key.expiresWhenUnused ? usage.lastUse(login.apiKey)?.at : nil
        switch cached.key.status(at: now, lastUsedAt: lastUse) {
        case .active: break
        case .expired: throw OKXError.webSocketKeyDoesNotExist.with(message: "API key has expired")
        case .revoked: throw OKXError.webSocketKeyDoesNotExist
        }
        guard login.timestamp.count <= 12, login.timestamp.allSatisfy(\.isASCIIDigit), let seconds = Int64(login.timestamp) else {
            throw OKXError.webSocketInvalidTimestamp
        }
        guard abs(now - seconds * 1000) <= OKXTimestamp.window else {
            throw OKXError.webSocketTimestampExpired.with(
                message: "Timestamp request expired: \(login.timestamp) is more than 30 s from the server's \(now / 1000)")
        }
        var timestamp = login.timestamp, method = "GET", path = "/users/self/verify"
        let valid = timestamp.withUTF8 { ts in
            method.withUTF8 { m in
                path.withUTF8 { p in
                    cached.signer.isValid(
                        signature: login.sign, timestamp: UnsafeRawBufferPointer(ts), method: UnsafeRawBufferPointer(m),
                        requestPath: UnsafeRawBufferPointer(p), body: UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        }
        guard valid else { throw OKXError.webSocketInvalidSign }
        var passphrase = login.passphrase
        let passphraseMatches = passphrase.withUTF8 { passphrases.matches(UnsafeRawBufferPointer($0), verifier: cached.passphraseVerifier) }
        guard passphraseMatches else { throw OKXError.webSocketWrongPassphrase }
        if !cached.key.allowlist.isEmpty {
            guard let ip = clientIP, cached.key.allowlist.permits(ip) else {
                throw OKXError.webSocketLoginFailed.with(
                    message: "Login failed: \(clientIP?.description ?? "this address") is not in the API key's IP allowlist")
            }
        }
        return cached
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
