import Hummingbird
import HummingbirdAuth
import KeysmithApp
import KeysmithCore
import NIOCore
import Synchronization

/// Per-request state: the socket peer, the client IP after trusted-proxy resolution, the raw body the signature
/// covered, and the authenticated key once the auth middleware has run.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer, nil when unknown (in-process tests).
    public let peerAddress: IPAddress?
    /// Who the request is from: the peer, or the `X-Forwarded-For` client when the peer is a trusted proxy.
    public var clientIP: IPAddress? {
        didSet { facts.clientIP = clientIP }
    }
    /// The raw request body exactly as received (empty for GET).
    public var body = ByteBuffer()
    /// The key that signed this request; set by ``OKXAuthMiddleware``.
    public var authenticated: CachedKey? {
        didSet { facts.authenticated(authenticated) }
    }
    /// What inner middleware learnt, readable by the outer request logger (contexts are values).
    let facts = RequestFacts()
    /// When the request arrived, for latencies.
    public let started = ContinuousClock.now
    /// The web console's session (loaded only by the console's session middleware).
    public let sessions = SessionContext<ConsoleSession>()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress.flatMap(IPAddress.init(socketAddress:))
        self.clientIP = peerAddress
    }

    /// Where a state change made by this request comes from. The service writes the request's audit event in the
    /// change's own transaction, so the request logger does not queue a second one.
    public func auditOrigin(_ request: Request) -> AuditOrigin {
        facts.markAuditedInTransaction()
        return AuditOrigin(
            actor: authenticated?.key.apiKey ?? "", action: "\(request.method.rawValue) \(request.uri.path)", requestID: id,
            clientIP: clientIP?.description ?? "", started: started)
    }

    /// A console action by `actor` (`console:EMAIL`), audited in the change's transaction.
    func consoleOrigin(_ request: Request, actor: String) -> AuditOrigin {
        AuditOrigin(
            actor: actor, action: "console \(request.method.rawValue) \(request.uri.path)", requestID: id,
            clientIP: clientIP?.description ?? "", started: started)
    }

    /// The authenticated key, for handlers behind the auth middleware.
    public func requireKey() throws(OKXError) -> CachedKey {
        guard let authenticated else { throw OKXError.invalidAuthorization }
        return authenticated
    }
}

extension IPAddress {
    /// The address of a NIO socket address; nil for Unix-domain sockets.
    init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            let (high, low) = withUnsafeBytes(of: &raw) { bytes in
                (bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                 bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            }
            self.init(high: high, low: low)
        case .unixDomainSocket:
            return nil
        }
    }
}

/// Facts about a request that the outermost middleware logs and audits after inner middleware has set them
/// (contexts are values, so inner changes reach it only through this shared box).
final class RequestFacts: Sendable {
    struct Snapshot: Sendable {
        var apiKey: String?
        var accountUID: String?
        var clientIP: IPAddress?
        /// The authenticated key has no IP allowlist (its first use from each address is reported).
        var unboundKey = false
        /// The request reached a route that requires authentication.
        var guarded = false
        /// A state change handed its audit origin out: on success its event was written in the change's transaction.
        var auditedInTransaction = false
        /// The result of an answer that is not an error but not a plain success either: order endpoints' top-level
        /// code followed by each item's `sCode` (`"2,0,51008"`).
        var itemResults: String?
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    var clientIP: IPAddress? {
        get { state.withLock { $0.clientIP } }
        set { state.withLock { $0.clientIP = newValue } }
    }

    var apiKey: String? { state.withLock { $0.apiKey } }

    func authenticated(_ key: CachedKey?) {
        state.withLock {
            $0.apiKey = key?.key.apiKey
            $0.accountUID = key?.key.accountUID
            $0.unboundKey = key?.key.allowlist.isEmpty ?? false
        }
    }

    func markGuarded() { state.withLock { $0.guarded = true } }
    func markAuditedInTransaction() { state.withLock { $0.auditedInTransaction = true } }
    func recordItemResults(_ results: String) { state.withLock { $0.itemResults = results } }
}
