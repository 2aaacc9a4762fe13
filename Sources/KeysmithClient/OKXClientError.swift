import Foundation

/// Everything an ``OKXClient`` call can fail with. Messages carry the exchange's code and message, the request's
/// method and path, never a header, secret or passphrase.
public enum OKXClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exchange answered with a non-zero code (`50113` "Invalid Sign", `51008` insufficient balance, …).
    /// For order endpoints `items` has each order's `sCode`/`sMsg`.
    case api(code: String, message: String, httpStatus: Int, items: [ItemError])
    /// The server answered something that is not an OKX response (a proxy's error page, a 404 without a body).
    case http(status: Int, excerpt: String)
    /// The request did not reach the server or the answer did not arrive (DNS, refused, TLS, timeout).
    case transport(String)
    /// An OKX response whose data did not have the expected shape.
    case decoding(String)
    /// A signed endpoint was called on a client without credentials.
    case missingCredentials
    /// Credentials that cannot sign anything (empty key, secret or passphrase, not an Ed25519 key).
    case invalidCredentials(String)

    /// One item's failure in a batch (`sCode`, `sMsg`), with its `ordId`/`clOrdId` when given.
    public struct ItemError: Sendable, Equatable {
        public let code: String
        public let message: String
        public let id: String

        public init(code: String, message: String, id: String) {
            self.code = code
            self.message = message
            self.id = id
        }
    }

    /// The OKX error code, when the exchange gave one. For a failed single order the item's `sCode`.
    public var code: String? {
        guard case .api(let code, _, _, let items) = self else { return nil }
        if code == "1", items.count == 1 { return items[0].code }
        return code
    }

    public var description: String {
        switch self {
        case .api(let code, let message, let status, let items):
            let details = items.filter { $0.code != "0" }.map { "\($0.id.isEmpty ? "" : "\($0.id): ")\($0.code) \($0.message)" }
            return "OKX error \(code)\(message.isEmpty ? "" : ": \(message)") (HTTP \(status))"
                + (details.isEmpty ? "" : " [\(details.joined(separator: "; "))]")
        case .http(let status, let excerpt): return "HTTP \(status) without an OKX response: \(excerpt)"
        case .transport(let reason): return "could not reach the server: \(reason)"
        case .decoding(let reason): return "unexpected response: \(reason)"
        case .missingCredentials: return "this endpoint needs credentials"
        case .invalidCredentials(let reason): return "invalid credentials: \(reason)"
        }
    }

    /// True for answers that mean "slow down": HTTP 429, 50011 (rate limit), 50061 (sub-account rate limit).
    var isRateLimit: Bool {
        switch self {
        case .api(let code, _, let status, _): status == 429 || code == "50011" || code == "50061"
        case .http(let status, _): status == 429
        default: false
        }
    }

    /// True when the server refused the request's timestamp (50102 expired, 50112 invalid).
    var isTimestampRefused: Bool {
        guard case .api(let code, _, _, _) = self else { return false }
        return code == "50102" || code == "50112"
    }
}
