import Foundation
import KeysmithCore

/// Alert sinks and the transactional outbox of alerts to deliver to them.
public protocol AlertStore: Sendable {
    /// `.duplicate` when a sink of that name exists.
    func insert(sink: AlertSink) async throws(StoreError)
    func sinks() async throws(StoreError) -> [AlertSink]
    func sink(named name: String) async throws(StoreError) -> AlertSink?
    /// Removes the sink and its undelivered alerts; false when there was none.
    func removeSink(named name: String) async throws(StoreError) -> Bool
    /// Queues `record` (already in the audit log) for one sink, outside the event filter (`alerts test`).
    func enqueue(_ record: AuditRecord, sequence: Int64, kind: AlertKind, sink: String, at time: Int64) async throws(StoreError)
    /// Pending deliveries due at `now`, oldest first (a read: nothing changes).
    func dueDeliveries(now: Int64, limit: Int) async throws(StoreError) -> [AlertDelivery]
    /// Pending deliveries due at `now`, oldest first, taken by the calling delivery worker: where several nodes
    /// deliver, each row goes to one of them (until `lease` milliseconds have passed without a result).
    func claimDueDeliveries(now: Int64, limit: Int, lease: Int64) async throws(StoreError) -> [AlertDelivery]
    /// The earliest time a pending delivery is due, if any.
    func nextDueTime() async throws(StoreError) -> Int64?
    func markDelivered(id: Int64, at time: Int64) async throws(StoreError)
    /// Records a failed attempt: retried at `retryAt`, or dead-lettered when nil.
    func markFailed(id: Int64, attempts: Int, retryAt: Int64?, error: String) async throws(StoreError)
    /// Puts dead-lettered deliveries of a sink (all sinks when nil) back in the queue; returns how many.
    func retryDead(sink: String?, at time: Int64) async throws(StoreError) -> Int
    func deliveryStatus() async throws(StoreError) -> [AlertSinkStatus]
}

/// Where alerts go.
public struct AlertSink: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case webhook, slack, email
    }

    public var name: String
    public var kind: Kind
    /// The URL of a webhook or Slack sink; `host:port` of the SMTP relay of an email sink.
    public var target: String
    public var emailFrom: String
    public var emailTo: String
    public var events: Set<AlertKind>
    /// The webhook signing secret, sealed with the master key (nil for other kinds).
    public var sealedSecret: [UInt8]?
    public var createdAt: Int64

    public init(
        name: String, kind: Kind, target: String, emailFrom: String = "", emailTo: String = "", events: Set<AlertKind>,
        sealedSecret: [UInt8]? = nil, createdAt: Int64
    ) {
        self.name = name
        self.kind = kind
        self.target = target
        self.emailFrom = emailFrom
        self.emailTo = emailTo
        self.events = events
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
    }
}

/// One alert waiting to reach one sink.
public struct AlertDelivery: Sendable, Hashable {
    public var id: Int64
    public var sink: String
    public var kind: AlertKind
    public var auditSequence: Int64
    public var record: AuditRecord
    public var attempts: Int
    public var createdAt: Int64

    public init(id: Int64, sink: String, kind: AlertKind, auditSequence: Int64, record: AuditRecord, attempts: Int, createdAt: Int64) {
        self.id = id
        self.sink = sink
        self.kind = kind
        self.auditSequence = auditSequence
        self.record = record
        self.attempts = attempts
        self.createdAt = createdAt
    }
}

/// Delivery counts of one sink, for `keysmith alerts status`.
public struct AlertSinkStatus: Sendable, Hashable {
    public var sink: String
    public var pending: Int
    public var delivered: Int
    public var dead: Int
    public var lastError: String
    public var lastDeliveredAt: Int64?

    public init(sink: String, pending: Int, delivered: Int, dead: Int, lastError: String, lastDeliveredAt: Int64?) {
        self.sink = sink
        self.pending = pending
        self.delivered = delivered
        self.dead = dead
        self.lastError = lastError
        self.lastDeliveredAt = lastDeliveredAt
    }
}

extension AlertDelivery {
    /// An outbox row as read by either backend; the payload is the event's record as JSON.
    static func decode(
        id: Int64, sink: String, kind: String, auditSequence: Int64, payload: String, attempts: Int, createdAt: Int64
    ) throws(StoreError) -> AlertDelivery {
        guard let kind = AlertKind(rawValue: kind), let record = try? JSONDecoder().decode(AuditRecord.self, from: Data(payload.utf8))
        else { throw StoreError.database("unreadable alert \(id)") }
        return AlertDelivery(id: id, sink: sink, kind: kind, auditSequence: auditSequence, record: record, attempts: attempts, createdAt: createdAt)
    }
}
