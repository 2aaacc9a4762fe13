import NIOCore
import NIOPosix

/// Sends one plain-text email through an SMTP relay (EHLO, MAIL FROM, RCPT TO, DATA, QUIT), as local relays
/// accept it: no authentication and no STARTTLS. Every reply is checked; a refusal fails with the relay's words.
///
/// ```swift
/// try await SMTPClient(host: "127.0.0.1", port: 25).send(from: "keysmith@example.com", to: ["ops@example.com"],
///                                                       subject: "[Keysmith] key.revoked", body: "…")
/// ```
public struct SMTPClient: Sendable {
    public var host: String
    public var port: Int
    public var timeout: Duration

    public init(host: String, port: Int, timeout: Duration = .seconds(15)) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func send(from: String, to recipients: [String], subject: String, body: String) async throws {
        for address in [from] + recipients where !Self.isPlainAddress(address) {
            throw Failure(description: "not an email address: \(address)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await converse(from: from, to: recipients, subject: subject, body: body) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "the SMTP relay \(host):\(port) did not finish within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func converse(from: String, to recipients: [String], subject: String, body: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var replies = ReplyReader(inbound.makeAsyncIterator())
            func command(_ line: String?, expect: Int) async throws {
                if let line { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                let (code, text) = try await replies.next()
                guard code == expect else {
                    let verb = line?.split(separator: " ").first.map(String.init) ?? "greeting"
                    throw Failure(description: "the SMTP relay answered \(code) \(text) to \(verb)")
                }
            }
            try await command(nil, expect: 220)
            try await command("EHLO keysmith", expect: 250)
            try await command("MAIL FROM:<\(from)>", expect: 250)
            for recipient in recipients { try await command("RCPT TO:<\(recipient)>", expect: 250) }
            try await command("DATA", expect: 354)
            try await command(Self.message(from: from, to: recipients, subject: subject, body: body) + "\r\n.", expect: 250)
            try await command("QUIT", expect: 221)
        }
    }

    /// Headers and body, CRLF line ends, lines starting with a dot doubled (RFC 5321 §4.5.2).
    package static func message(from: String, to recipients: [String], subject: String, body: String) -> String {
        let headers = [
            "From: \(from)", "To: \(recipients.joined(separator: ", "))", "Subject: \(subject)", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") ? "." + line : String(line)
        }
        return (headers + [""] + lines).joined(separator: "\r\n")
    }

    /// No spaces, line breaks or angle brackets: nothing that could inject an SMTP command.
    package static func isPlainAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@")
        return parts.count == 2 && !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0.isNewline })
    }

    /// Reads multi-line SMTP replies (`250-…` continues, `250 …` ends) from the inbound byte stream.
    package struct ReplyReader {
        package var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        package var pending: [UInt8] = []

        package init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
            self.iterator = iterator
        }

        package mutating func next() async throws -> (Int, String) {
            var text: [String] = []
            while true {
                let line = try await nextLine()
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw Failure(description: "the SMTP relay sent a malformed reply")
                }
                text.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    return (code, text.joined(separator: " "))
                }
            }
        }

        private mutating func nextLine() async throws -> String {
            while true {
                if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = Array(pending[..<end])
                    pending.removeFirst(end + 1)
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                guard var buffer = try await iterator.next() else {
                    throw Failure(description: "the SMTP relay closed the connection")
                }
                pending.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
        }
    }
}
