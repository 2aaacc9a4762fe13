import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Logging
import NIOCore
import Synchronization
import Testing

/// A clock tests move by hand.
final class ManualClock: WallClock {
    private let value: Mutex<Int64>

    init(_ start: Int64 = 1_763_900_000_000) {
        value = Mutex(start)
    }

    var milliseconds: Int64 { value.withLock { $0 } }

    func advance(by milliseconds: Int64) {
        value.withLock { $0 += milliseconds }
    }
}

/// Collects every log line, to prove that no secret reaches a log.
final class LogCollector: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "test") { _ in CollectingHandler(collector: self) }
    }

    struct CollectingHandler: LogHandler {
        let collector: LogCollector
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            collector.append("\(event.level) \(event.message) \(merged)")
        }
    }
}

/// An OKX response as tests read it.
struct OKXReply {
    let status: Int
    let code: String
    let msg: String
    let data: [[String: Any]]
    let headers: HTTPFields
    let raw: String
}

/// A running Keysmith server on a free loopback port, its installation, clock and bootstrap master credentials.
/// `127.0.0.1` and `::1` are trusted proxies, so a test can present any client address with `X-Forwarded-For`.
struct Harness {
    let client: any TestClientProtocol
    let installation: Installation
    /// The console's operators, as the server's console uses them.
    let console: ConsoleAuth
    let clock: ManualClock
    let master: KeyCredentials
    let logs: LogCollector
    /// The data folder (a second installation opened on it is a restart, or a CLI beside the server).
    let folder: URL

    static func run(
        configure: (inout ServerConfiguration) -> Void = { _ in }, _ test: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "keysmith-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let clock = ManualClock()
        let logs = LogCollector()
        let installation = try await TestBackend.open(
            dataDirectory: folder, clock: clock, cacheRefreshInterval: .milliseconds(50), logger: logs.logger)
        var failure: (any Error)?
        do {
            let first = try #require(try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: .test))
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, trustedProxies: try IPAllowlist(okx: "127.0.0.1,::1"))
            // Suites run in parallel on a loaded machine: the 1 s freshness bound of a PostgreSQL node (tested by the
            // multi-node suite, which stops the database) must not turn slow refreshes into 50001 here.
            configuration.cacheFreshnessBound = .seconds(60)
            // The test client keeps one connection per test: a test that waits on a loaded machine must not find it
            // closed as idle (the idle timeout has its own tests).
            configuration.idleTimeout = .seconds(3600)
            configure(&configuration)
            let console = ConsoleAuth(installation)
            let app = try await buildApplication(installation, console: console, configuration: configuration, logger: logs.logger)
            try await app.test(.live) { client in
                try await test(
                    Harness(
                        client: client, installation: installation, console: console, clock: clock, master: first.credentials, logs: logs,
                        folder: folder))
            }
        } catch {
            failure = error
        }
        installation.postgres?.close()
        await TestBackend.dropDatabase(for: folder)
        if let failure { throw failure }
    }

    /// Sends a request signed with `credentials` (unsigned when nil). `mutate` may change headers after signing.
    func call(
        _ method: HTTPRequest.Method, _ target: String, body: String? = nil, as credentials: KeyCredentials?,
        from ip: String? = nil, signedAt timestamp: String? = nil, mutate: (inout HTTPFields) -> Void = { _ in }
    ) async throws -> OKXReply {
        var headers: HTTPFields = [:]
        if let credentials {
            let ts = timestamp ?? OKXTimestamp.string(fromMilliseconds: clock.milliseconds)
            let sign = OKXSigner(secret: credentials.secretKey).signature(
                timestamp: ts, method: method.rawValue, requestPath: target, body: body ?? "")
            headers[HTTPField.Name("OK-ACCESS-KEY")!] = credentials.apiKey
            headers[HTTPField.Name("OK-ACCESS-SIGN")!] = sign
            headers[HTTPField.Name("OK-ACCESS-TIMESTAMP")!] = ts
            headers[HTTPField.Name("OK-ACCESS-PASSPHRASE")!] = credentials.passphrase
        }
        if body != nil { headers[.contentType] = "application/json" }
        if let ip { headers[HTTPField.Name("X-Forwarded-For")!] = ip }
        mutate(&headers)
        return try await client.execute(uri: target, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let raw = String(buffer: response.body)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any], "not JSON: \(raw)")
            return OKXReply(
                status: Int(response.status.code), code: try #require(object["code"] as? String), msg: object["msg"] as? String ?? "",
                data: object["data"] as? [[String: Any]] ?? [], headers: response.headers, raw: raw)
        }
    }

    /// Creates a sub-account and a key for it through the services (as the CLI does).
    func subAccountKey(
        _ name: String = "bot01trader", permissions: Permissions = [.readOnly, .trade], allowlist: String = "",
        environment: KeyEnvironment = .live, expiresAt: Int64? = nil, rateLimit: RateLimit? = nil
    ) async throws -> KeyCredentials {
        let account = try await existingOrNewSubAccount(name)
        return try await installation.keys.create(
            NewKeyRequest(
                account: account, label: "key-\(UUID().uuidString.prefix(8))", permissions: permissions,
                allowlist: try IPAllowlist(okx: allowlist), environment: environment, expiresAt: expiresAt,
                rateLimit: rateLimit), origin: .test
        ).credentials
    }

    func existingOrNewSubAccount(_ name: String) async throws -> Account {
        if let existing = try? await installation.accounts.subAccount(named: name) { return existing }
        return try await installation.accounts.createSubAccount(SubAccountRequest(name: name), origin: .test)
    }
}

extension HTTPFields {
    subscript(okx name: String) -> String? {
        get { self[HTTPField.Name(name)!] }
        set { self[HTTPField.Name(name)!] = newValue }
    }
}

extension AuditOrigin {
    /// Actions taken by a test directly on the services.
    static var test: AuditOrigin { AuditOrigin(actor: "test", action: "test") }
}
