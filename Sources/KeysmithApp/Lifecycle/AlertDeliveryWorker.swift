import AsyncHTTPClient
import Foundation
import KeysmithCore
import KeysmithStore
import Logging
import NIOCore
import ServiceLifecycle

/// Delivers queued alerts from the outbox: polls for due deliveries, sends up to `concurrency` at once on its own
/// tasks (a slow or dead receiver never touches the request path), and on failure retries with exponential backoff
/// and jitter until `maximumAttempts`, then dead-letters the delivery (`keysmith alerts status` shows it). Because
/// the outbox is in the database, a restart resumes whatever was undelivered.
public struct AlertDeliveryWorker: Service {
    public struct Policy: Sendable, Hashable {
        public var maximumAttempts: Int
        /// The first retry waits about this long; each later one twice as long, up to `maximumDelay`.
        public var baseDelayMilliseconds: Int64
        public var maximumDelayMilliseconds: Int64
        public var pollInterval: Duration
        public var requestTimeout: Duration
        public var concurrency: Int

        public init(
            maximumAttempts: Int = 8, baseDelayMilliseconds: Int64 = 2_000, maximumDelayMilliseconds: Int64 = 600_000,
            pollInterval: Duration = .milliseconds(250), requestTimeout: Duration = .seconds(10), concurrency: Int = 4
        ) {
            self.maximumAttempts = max(1, maximumAttempts)
            self.baseDelayMilliseconds = max(1, baseDelayMilliseconds)
            self.maximumDelayMilliseconds = max(baseDelayMilliseconds, maximumDelayMilliseconds)
            self.pollInterval = pollInterval
            self.requestTimeout = requestTimeout
            self.concurrency = max(1, concurrency)
        }

        /// The wait before attempt `attempts + 1`: base·2^(attempts−1), capped, times a random factor in [0.5, 1].
        public func delay(afterAttempts attempts: Int) -> Int64 {
            let exponent = min(max(attempts - 1, 0), 30)
            // A doubling past 64 bits is past any cap: saturate instead of losing the high bits.
            let doubled = baseDelayMilliseconds > Int64.max >> exponent ? Int64.max : baseDelayMilliseconds << exponent
            let raw = min(maximumDelayMilliseconds, doubled)
            let jittered = (Double(raw) * Double.random(in: 0.5...1.0)).rounded(.down)
            return max(1, Int64(exactly: jittered) ?? raw)
        }
    }

    private let store: any AlertStore
    private let sealer: SecretSealer
    private let clock: any WallClock
    private let policy: Policy
    private let logger: Logger

    public init(store: any AlertStore, sealer: SecretSealer, clock: any WallClock, policy: Policy = Policy(), logger: Logger) {
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await deliverDue()
                try? await Task.sleep(for: policy.pollInterval)
            }
        }
    }

    /// Sends every delivery due now; returns how many were attempted.
    @discardableResult
    public func deliverDue() async -> Int {
        let due: [AlertDelivery]
        let sinks: [String: AlertSink]
        do {
            due = try await store.claimDueDeliveries(now: clock.milliseconds, limit: 100, lease: 60_000)
            guard !due.isEmpty else { return 0 }
            sinks = Dictionary(try await store.sinks().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        } catch {
            logger.backgroundFailure("reading the alert outbox failed", error: error)
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for delivery in due {
                if running == policy.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await attempt(delivery, sink: sinks[delivery.sink]) }
                running += 1
            }
        }
        return due.count
    }

    private func attempt(_ delivery: AlertDelivery, sink: AlertSink?) async {
        let attempts = delivery.attempts + 1
        do {
            guard let sink else { throw DeliveryFailure(description: "the sink no longer exists") }
            try await send(AlertMessage(delivery: delivery), to: sink)
            try await store.markDelivered(id: delivery.id, at: clock.milliseconds)
        } catch {
            let reason = (error as? DeliveryFailure)?.description ?? String(describing: type(of: error))
            let retryAt = attempts >= policy.maximumAttempts ? nil : clock.milliseconds + policy.delay(afterAttempts: attempts)
            logger.warning(
                retryAt == nil ? "alert dead-lettered" : "alert delivery failed; will retry",
                metadata: ["sink": "\(delivery.sink)", "alert": "\(delivery.id)", "attempts": "\(attempts)", "error": "\(reason)"])
            try? await store.markFailed(id: delivery.id, attempts: attempts, retryAt: retryAt, error: reason)
        }
    }

    private func send(_ message: AlertMessage, to sink: AlertSink) async throws {
        switch sink.kind {
        case .webhook:
            guard let sealed = sink.sealedSecret, let secret = try? sealer.open(sealed, for: sink.name) else {
                throw DeliveryFailure(description: "the sink's signing secret does not open with this master key")
            }
            let body = try message.webhookBody()
            let signature = WebhookSignature.header(body: body, secret: secret, at: clock.milliseconds / 1000)
            try await post(
                body, to: sink.target,
                headers: [
                    (WebhookSignature.headerName, signature), ("Keysmith-Event", message.delivery.kind.rawValue),
                    ("Keysmith-Delivery", "alert-\(message.delivery.id)"),
                ])
        case .slack:
            guard let sealed = sink.sealedSecret, let url = try? sealer.open(sealed, for: sink.name) else {
                throw DeliveryFailure(description: "the sink's URL does not open with this master key")
            }
            try await post(try message.slackBody(), to: url, headers: [])
        case .email:
            guard let (host, port) = AlertSinks.relay(sink.target) else {
                throw DeliveryFailure(description: "the SMTP relay \(sink.target) is not host:port")
            }
            do {
                try await SMTPClient(host: host, port: port, timeout: policy.requestTimeout).send(
                    from: sink.emailFrom, to: sink.emailTo.split(separator: ",").map(String.init), subject: message.emailSubject,
                    body: message.emailBody)
            } catch let failure as SMTPClient.Failure {
                throw DeliveryFailure(description: failure.description)
            } catch {
                throw DeliveryFailure(description: "cannot reach the SMTP relay \(sink.target)")
            }
        }
    }

    private func post(_ body: [UInt8], to url: String, headers: [(String, String)]) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Keysmith-Alerts/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .init(policy.requestTimeout))
        } catch {
            throw DeliveryFailure(description: "cannot reach \(AlertSinks.redacted(url)): \(type(of: error))")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw DeliveryFailure(description: "\(AlertSinks.redacted(url)) answered HTTP \(response.status.code)")
        }
    }

    package struct DeliveryFailure: Error, CustomStringConvertible {
        package let description: String
    }
}

extension TimeAmount {
    package init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
