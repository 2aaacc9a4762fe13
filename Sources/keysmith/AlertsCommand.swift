import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alert sinks (webhook, Slack, email) and the delivery of security alerts.",
        subcommands: [Add.self, List.self, Remove.self, Test.self, Status.self, Retry.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a sink: webhook (signed JSON), slack (incoming webhook) or email (SMTP relay).",
            discussion: """
                Events: all, or a comma-separated list of \(AlertKind.allCases.filter { $0 != .test }.map(\.rawValue).joined(separator: ", ")).
                A webhook's signing secret is printed once: receivers check the Keysmith-Signature header with it.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "webhook, slack or email.") var kind: String
        @Option(help: "A name for the sink (default: the kind).") var name: String?
        @Option(help: "The URL to POST to (webhook, slack).") var url: String?
        @Option(help: "Recipient addresses, comma-separated (email).") var to: String?
        @Option(help: "Sender address (email).") var from: String?
        @Option(help: "The SMTP relay as host:port (email).") var smtp: String?
        @Option(help: "Which events to send.") var events = "all"

        func run() async throws {
            guard let sinkKind = AlertSink.Kind(rawValue: kind) else {
                throw CLIError("the kind is webhook, slack or email; got '\(kind)'")
            }
            let kinds = try AlertKind.parseList(events).get()
            let target: String
            switch sinkKind {
            case .webhook, .slack:
                guard let url else { throw CLIError("--url is required for a \(kind) sink") }
                target = url
            case .email:
                guard let smtp, to != nil, from != nil else { throw CLIError("--to, --from and --smtp are required for an email sink") }
                target = smtp
            }
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let added = try await installation.alertSinks.add(
                    name: name ?? kind, kind: sinkKind, target: target, emailFrom: from ?? "", emailTo: to ?? "", events: kinds,
                    origin: .cli("alerts.add"))
                if options.json {
                    try Output.json(SinkOutput(added.sink, signingSecret: added.signingSecret))
                    return
                }
                Output.line("added \(kind) sink \(added.sink.name) for \(Self.describe(added.sink.events))")
                if let secret = added.signingSecret {
                    Output.line("signing secret (shown once; receivers verify Keysmith-Signature with it): \(secret)")
                }
            }
        }

        static func describe(_ events: Set<AlertKind>) -> String {
            let shown = events.subtracting([.test])
            return shown.count == AlertKind.allCases.count - 1 ? "all events" : shown.map(\.rawValue).sorted().joined(separator: ",")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alert sinks (never a secret).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let sinks = try await installation.alertSinks.list()
                if options.json {
                    try Output.json(sinks.map { SinkOutput($0, signingSecret: nil) })
                    return
                }
                guard !sinks.isEmpty else { return Output.line("no alert sinks (add one with `keysmith alerts add webhook --url URL`)") }
                Output.table(
                    ["NAME", "KIND", "TARGET", "EVENTS"],
                    sinks.map { sink in
                        let target = sink.kind == .email ? "\(sink.emailTo) via \(sink.target)" : sink.target
                        return [sink.name, sink.kind.rawValue, target, Add.describe(sink.events)]
                    })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a sink and its undelivered alerts.")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                try await installation.alertSinks.remove(name: name, origin: .cli("alerts.remove"))
                Output.line("removed alert sink \(name)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a test alert for a sink (every sink when none is named); the running server delivers it.")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                var names = name.map { [$0] } ?? []
                if name == nil { names = try await installation.alertSinks.list().map(\.name) }
                guard !names.isEmpty else { throw CLIError("no alert sinks to test") }
                for sink in names {
                    try await installation.alertSinks.test(name: sink, origin: .cli("alerts.test"))
                    Output.line("queued a test alert for \(sink) (see `keysmith alerts status`)")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delivery counts per sink: pending, delivered, dead-lettered.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let status = try await installation.alertSinks.status()
                if options.json {
                    try Output.json(status.map(StatusOutput.init))
                    return
                }
                Output.table(
                    ["SINK", "PENDING", "DELIVERED", "DEAD", "LAST DELIVERED", "LAST ERROR"],
                    status.map { row in
                        [
                            row.sink, String(row.pending), String(row.delivered), String(row.dead),
                            row.lastDeliveredAt.map { OKXTimestamp.string(fromMilliseconds: $0) } ?? "-",
                            row.lastError.isEmpty ? "-" : row.lastError,
                        ]
                    })
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue dead-lettered alerts again (of one sink, or all).")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String?

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let count = try await installation.alertSinks.retryDead(sink: name)
                Output.line("queued \(count) dead-lettered alerts again")
            }
        }
    }

    struct SinkOutput: Encodable {
        let name, kind, target, emailTo, emailFrom: String
        let events: [String]
        let signingSecret: String?

        init(_ sink: AlertSink, signingSecret: String?) {
            name = sink.name
            kind = sink.kind.rawValue
            target = sink.target
            emailTo = sink.emailTo
            emailFrom = sink.emailFrom
            events = sink.events.map(\.rawValue).sorted()
            self.signingSecret = signingSecret
        }
    }

    struct StatusOutput: Encodable {
        let sink: String
        let pending, delivered, dead: Int
        let lastError: String
        let lastDeliveredAt: Int64?

        init(_ status: AlertSinkStatus) {
            sink = status.sink
            pending = status.pending
            delivered = status.delivered
            dead = status.dead
            lastError = status.lastError
            lastDeliveredAt = status.lastDeliveredAt
        }
    }
}
