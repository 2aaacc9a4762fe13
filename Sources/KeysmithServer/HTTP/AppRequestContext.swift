import Hummingbird
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
        didSet { facts.apiKey = authenticated?.key.apiKey }
    }
    /// What inner middleware learnt, readable by the outer request logger (contexts are values).
    let facts = RequestFacts()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress.flatMap(IPAddress.init(socketAddress:))
        self.clientIP = peerAddress
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

/// Facts about a request that the outermost middleware logs after inner middleware has set them.
final class RequestFacts: Sendable {
    private let state = Mutex<(apiKey: String?, clientIP: IPAddress?)>((nil, nil))

    var apiKey: String? {
        get { state.withLock { $0.apiKey } }
        set { state.withLock { $0.apiKey = newValue } }
    }

    var clientIP: IPAddress? {
        get { state.withLock { $0.clientIP } }
        set { state.withLock { $0.clientIP = newValue } }
    }
}
