import Foundation
import KeysmithCore
import KeysmithStore

/// What a sink receives for one delivery, built only from the audit event's fields (which never hold a secret).
package struct AlertMessage: Sendable {
    package let delivery: AlertDelivery

    package var summary: String { delivery.kind.summary(of: delivery.record) }

    /// The generic webhook body: `{"id","type","created","summary","event":{…}}`, keys sorted.
    package func webhookBody() throws -> [UInt8] {
        let record = delivery.record
        let body = WebhookBody(
            id: "alert-\(delivery.id)", type: delivery.kind.rawValue, created: delivery.createdAt, summary: summary,
            event: .init(
                seq: delivery.auditSequence, time: record.time, requestId: record.requestID, actor: record.actor,
                account: record.account, action: record.action, target: record.target, clientIp: record.clientIP,
                result: record.result, details: record.details))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(body))
    }

    /// A Slack incoming-webhook body.
    package func slackBody() throws -> [UInt8] {
        let text = "[Keysmith] \(delivery.kind.rawValue): \(summary) (audit event \(delivery.auditSequence))"
        return Array(try JSONEncoder().encode(["text": text]))
    }

    package var emailSubject: String { "[Keysmith] \(delivery.kind.rawValue): \(summary)" }

    package var emailBody: String {
        let record = delivery.record
        var lines = [
            summary, "", "event:      \(delivery.kind.rawValue)", "audit seq:  \(delivery.auditSequence)",
            "time:       \(OKXTimestamp.string(fromMilliseconds: record.time))", "actor:      \(record.actor)",
            "account:    \(record.account)", "action:     \(record.action)", "target:     \(record.target)",
            "client IP:  \(record.clientIP)", "result:     \(record.result)",
        ]
        for key in record.details.keys.sorted() { lines.append("\(key): \(record.details[key] ?? "")") }
        return lines.joined(separator: "\n") + "\n"
    }

    package struct WebhookBody: Encodable {
        package struct Event: Encodable {
            package let seq: Int64
            package let time: Int64
            package let requestId, actor, account, action, target, clientIp, result: String
            package let details: [String: String]
        }

        package let id, type: String
        package let created: Int64
        package let summary: String
        package let event: Event
    }
}
