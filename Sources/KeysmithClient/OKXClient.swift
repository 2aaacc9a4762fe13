import AsyncHTTPClient
import Foundation
import KeysmithCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A typed async client for the OKX v5 REST API, against OKX itself or a Keysmith server.
///
/// - Signs each request with the key's secret (HMAC-SHA256) or Ed25519 private key, with the same code the server
///   verifies with (`KeysmithCore.RequestSigner`).
/// - Measures the clock offset from `GET /api/v5/public/time` before the first signed request and stamps every
///   request with the server's time, so a drifting machine clock never causes 50102 "Timestamp request expired";
///   if the server still refuses a timestamp, it measures again and retries once.
/// - Retries rate-limited requests (HTTP 429, 50011, 50061) with exponential backoff and jitter, honouring
///   `Retry-After`.
/// - Throws ``OKXClientError``: `.api` carries the OKX code and message (and each order's `sCode`).
///
/// ```swift
/// let client = OKXClient(baseURL: "https://keysmith.example.com", credentials: credentials)
/// let balance = try await client.balance()
/// ```
public final class OKXClient: Sendable {
    public struct Configuration: Sendable {
        /// `https://www.okx.com`, `https://eea.okx.com`, `https://us.okx.com` or a Keysmith server's address.
        public var baseURL: String
        /// Demo trading: every request carries `x-simulated-trading: 1` (demo keys only work so).
        public var demo = false
        public var timeout: Duration = .seconds(10)
        /// How often a rate-limited request is tried again before its error is thrown.
        public var rateLimitRetries = 4
        public var retryBaseDelay: Duration = .milliseconds(200)
        /// The longest wait between tries, whatever `Retry-After` says.
        public var maxRetryDelay: Duration = .seconds(30)
        /// Measure the clock offset from the server's time and sign with the corrected time.
        public var correctsClockSkew = true

        public init(baseURL: String, demo: Bool = false) {
            self.baseURL = baseURL
            self.demo = demo
        }
    }

    public static let okx = "https://www.okx.com"
    public static let okxEEA = "https://eea.okx.com"
    public static let okxUS = "https://us.okx.com"

    public let configuration: Configuration
    private let credentials: OKXCredentials?
    private let http: HTTPClient
    private let logger: Logger
    private let localMilliseconds: @Sendable () -> Int64
    /// Server time minus local time, in milliseconds; nil until measured.
    private let offset = Mutex<Int64?>(nil)
    private let base: String

    public init(
        configuration: Configuration, credentials: OKXCredentials? = nil, httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "keysmith.client"),
        clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.http = httpClient
        self.logger = logger
        self.localMilliseconds = clock
        var base = configuration.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    public convenience init(baseURL: String = OKXClient.okx, credentials: OKXCredentials? = nil, demo: Bool = false) {
        self.init(configuration: Configuration(baseURL: baseURL, demo: demo), credentials: credentials)
    }

    /// The measured clock offset (server minus this machine), once a signed request or ``synchronizeClock()`` ran.
    public var clockOffset: Duration? { offset.withLock { $0 }.map { .milliseconds($0) } }

    /// Measures the offset between this machine's clock and the server's from `public/time` (assuming the answer
    /// was produced half-way through the round trip) and uses it for every later signature.
    @discardableResult
    public func synchronizeClock() async throws -> Duration {
        let sent = localMilliseconds()
        let time: ServerTime = try one(try await request(.GET, "/api/v5/public/time", signed: false))
        let received = localMilliseconds()
        guard let server = time.ts else { throw OKXClientError.decoding("public/time without ts") }
        // The wire value is within OKXMilliseconds.range, so neither step can overflow; checked all the same.
        guard let serverMilliseconds = OKXMilliseconds.milliseconds(of: server),
            case (let measured, false) = serverMilliseconds.subtractingReportingOverflow(Self.midpoint(sent, received))
        else { throw OKXClientError.decoding("public/time: ts out of range") }
        offset.withLock { $0 = measured }
        return .milliseconds(measured)
    }

    // MARK: Any endpoint

    /// A request to any endpoint, decoding `data` as `[Item]`.
    public func request<Item: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], signed: Bool = true
    ) async throws -> [Item] {
        try await send(method, target(path, query), body: nil, signed: signed)
    }

    /// A request with a JSON body to any endpoint, decoding `data` as `[Item]`.
    public func request<Item: Decodable>(
        _ method: HTTPMethod, _ path: String, body: some Encodable, signed: Bool = true
    ) async throws -> [Item] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json: String
        do { json = String(decoding: try encoder.encode(body), as: UTF8.self) } catch {
            throw OKXClientError.decoding("request body: \(error)")
        }
        return try await send(method, path, body: json, signed: signed)
    }

    /// The timestamp a request made now carries: this machine's time, corrected by the measured offset.
    func timestamp() -> String {
        let correction = offset.withLock { $0 } ?? 0
        let (corrected, overflow) = localMilliseconds().addingReportingOverflow(correction)
        let milliseconds = overflow ? (correction < 0 ? Int64.min : Int64.max) : corrected
        return OKXTimestamp.string(fromMilliseconds: min(max(milliseconds, OKXMilliseconds.range.lowerBound), OKXMilliseconds.range.upperBound))
    }

    /// ⌊(a + b) / 2⌋ without overflow.
    static func midpoint(_ a: Int64, _ b: Int64) -> Int64 {
        (a >> 1) + (b >> 1) + (a & b & 1)
    }

    /// The OKX authentication headers for one request (exposed for tests and for callers with their own transport).
    public func signedHeaders(method: String, requestPath: String, body: String, timestamp: String) throws -> [(String, String)] {
        guard let credentials else { throw OKXClientError.missingCredentials }
        return [
            ("OK-ACCESS-KEY", credentials.apiKey),
            ("OK-ACCESS-SIGN", credentials.signer.signature(timestamp: timestamp, method: method, requestPath: requestPath, body: body)),
            ("OK-ACCESS-TIMESTAMP", timestamp),
            ("OK-ACCESS-PASSPHRASE", credentials.passphrase),
        ]
    }

    // MARK: Transport

    private func send<Item: Decodable>(_ method: HTTPMethod, _ target: String, body: String?, signed: Bool) async throws -> [Item] {
        if signed, credentials == nil { throw OKXClientError.missingCredentials }
        if signed, configuration.correctsClockSkew, offset.withLock({ $0 }) == nil {
            try await synchronizeClock()
        }
        var retries = 0
        var resynchronized = false
        while true {
            let reply = try await exchange(method, target, body: body, signed: signed)
            do {
                return try decode(reply, method: method, target: target)
            } catch let error as OKXClientError {
                if error.isRateLimit, retries < configuration.rateLimitRetries {
                    let wait = delay(retry: retries, retryAfter: reply.retryAfter)
                    logger.debug("rate limited; retrying", metadata: ["path": "\(pathOnly(target))", "wait_ms": "\(wait.milliseconds)"])
                    retries += 1
                    try await Task.sleep(for: wait)
                    continue
                }
                if signed, error.isTimestampRefused, configuration.correctsClockSkew, !resynchronized {
                    resynchronized = true
                    try await synchronizeClock()
                    continue
                }
                throw error
            }
        }
    }

    private struct Reply {
        let status: Int
        let body: ByteBuffer
        let retryAfter: Duration?
    }

    private func exchange(_ method: HTTPMethod, _ target: String, body: String?, signed: Bool) async throws -> Reply {
        var request = HTTPClientRequest(url: base + target)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "keysmith-client/1")
        if configuration.demo { request.headers.add(name: "x-simulated-trading", value: "1") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if signed {
            for (name, value) in try signedHeaders(method: method.rawValue, requestPath: target, body: body ?? "", timestamp: timestamp()) {
                request.headers.add(name: name, value: value)
            }
        }
        let started = ContinuousClock.now
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
            let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
            let retryAfter = Self.retryAfter(response.headers.first(name: "Retry-After"), atMost: configuration.maxRetryDelay)
            logger.debug(
                "okx request",
                metadata: ["method": "\(method.rawValue)", "path": "\(pathOnly(target))", "status": "\(response.status.code)",
                           "ms": "\((ContinuousClock.now - started).milliseconds)"])
            return Reply(status: Int(response.status.code), body: bytes, retryAfter: retryAfter)
        } catch {
            throw OKXClientError.transport("\(method.rawValue) \(pathOnly(target)): \(Self.describe(error))")
        }
    }

    private func decode<Item: Decodable>(_ reply: Reply, method: HTTPMethod, target: String) throws -> [Item] {
        do {
            return try Self.decode(Item.self, from: Data(reply.body.readableBytesView), status: reply.status)
        } catch OKXClientError.decoding(let reason) {
            throw OKXClientError.decoding("\(method.rawValue) \(pathOnly(target)): \(reason)")
        }
    }

    /// Reads an OKX response body: `data` as `[Item]` when `code` is "0", else ``OKXClientError/api(code:message:httpStatus:items:)``
    /// (for callers with their own transport, and for tests with recorded bodies).
    public static func decode<Item: Decodable>(_ type: Item.Type, from body: Data, status: Int = 200) throws -> [Item] {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: body) else {
            let excerpt = String(decoding: body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw OKXClientError.http(status: status, excerpt: excerpt.isEmpty ? "(empty body)" : excerpt)
        }
        guard envelope.code == "0" else {
            let items = envelope.items.compactMap { item -> OKXClientError.ItemError? in
                guard let code = item.sCode else { return nil }
                let id = [item.ordId, item.clOrdId].compactMap { $0 }.first { !$0.isEmpty } ?? ""
                return .init(code: code, message: item.sMsg ?? "", id: id)
            }
            let message = envelope.msg.isEmpty ? (items.first { $0.code != "0" }?.message ?? "") : envelope.msg
            throw OKXClientError.api(code: envelope.code, message: message, httpStatus: status, items: items)
        }
        do {
            return try JSONDecoder().decode(DataOnly<Item>.self, from: body).data
        } catch {
            throw OKXClientError.decoding(describe(error))
        }
    }

    func one<Item>(_ items: [Item]) throws -> Item {
        guard let first = items.first else { throw OKXClientError.decoding("empty data") }
        return first
    }

    private func delay(retry: Int, retryAfter: Duration?) -> Duration {
        let longest = configuration.maxRetryDelay
        if let retryAfter { return min(retryAfter, longest) }
        // Doubled per try, never past the longest wait (so no multiplication can overflow).
        var exponential = min(configuration.retryBaseDelay, longest)
        for _ in 0..<min(retry, 16) { exponential = exponential < longest / 2 ? exponential * 2 : longest }
        let jitter = Double.random(in: 0.5...1.0)
        return min(exponential * jitter, longest)
    }

    /// A `Retry-After` header in seconds, at most `longest`; nil (ignored) unless it is a finite, non-negative
    /// number. `inf`, `nan`, `-1`, `1e300` or an HTTP date never reach a conversion that could trap.
    static func retryAfter(_ header: String?, atMost longest: Duration) -> Duration? {
        guard let header, let seconds = Double(header.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 else {
            return nil
        }
        let longestSeconds = Double(longest.components.seconds) + Double(longest.components.attoseconds) / 1e18
        guard seconds < longestSeconds, let milliseconds = Int64(exactly: (seconds * 1000).rounded(.up)) else { return longest }
        return min(.milliseconds(milliseconds), longest)
    }

    private func target(_ path: String, _ query: [(String, String?)]) -> String {
        let pairs = query.compactMap { name, value in value.map { "\(name)=\(Self.percentEncoded($0))" } }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    func list(_ values: [String]) -> String? {
        values.isEmpty ? nil : values.joined(separator: ",")
    }

    private func pathOnly(_ target: String) -> Substring {
        target.prefix { $0 != "?" }
    }

    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~,")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// An error's description without anything a request carried (AsyncHTTPClient's errors name no headers).
    static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                return "\(path): \(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        }
        return "\(error)"
    }
}

/// The envelope every OKX response has; `code` may arrive as a string or a number.
private struct Envelope: Decodable {
    let code: String
    let msg: String
    let items: [Item]

    struct Item: Decodable {
        let sCode: String?
        let sMsg: String?
        let ordId: String?
        let clOrdId: String?
    }

    private enum CodingKeys: String, CodingKey { case code, msg, data }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let code = try c.decodeIfPresent(OKXText.self, forKey: .code) else {
            throw DecodingError.keyNotFound(CodingKeys.code, .init(codingPath: [], debugDescription: "not an OKX response"))
        }
        self.code = code.wrappedValue
        msg = try c.decode(OKXText.self, forKey: .msg).wrappedValue
        items = (try? c.decodeIfPresent([Item].self, forKey: .data)) ?? []
    }
}

/// Any item, for endpoints whose answer carries nothing the caller needs.
struct Discarded: Decodable {
    init(from decoder: any Decoder) throws {}
}

private struct DataOnly<Item: Decodable>: Decodable {
    let data: [Item]

    private enum CodingKeys: String, CodingKey { case data }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decodeIfPresent([Item].self, forKey: .data) ?? []
    }
}

extension Duration {
    /// Whole milliseconds, saturated at `Int64`'s bounds.
    var milliseconds: Int64 { Self.saturated(components.seconds, times: 1000, plus: components.attoseconds / 1_000_000_000_000_000) }
    /// Whole nanoseconds, saturated at `Int64`'s bounds.
    var nanoseconds: Int64 { Self.saturated(components.seconds, times: 1_000_000_000, plus: components.attoseconds / 1_000_000_000) }

    private static func saturated(_ seconds: Int64, times unit: Int64, plus fraction: Int64) -> Int64 {
        let bound = seconds < 0 ? Int64.min : Int64.max
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: unit)
        guard !overflow else { return bound }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(fraction)
        return overflowAgain ? bound : sum
    }
}
