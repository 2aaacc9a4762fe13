import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on a free loopback port that answers each request with what its responder returns: the
/// hostile exchange the client must survive (absurd times, `Retry-After: inf`, …).
///
/// ```swift
/// try await HostileServer.run({ _, _ in .init(body: #"{"code":"0","data":[{"ts":"9223372036854775807"}]}"#) }) { url, _ in
///     let client = OKXClient(baseURL: url)
/// }
/// ```
enum HostileServer {
    struct Answer: Sendable {
        var status: HTTPResponseStatus = .ok
        var headers: [(String, String)] = []
        var body: String
    }

    /// What the server answers to the `count`-th request (from 1), whose target is `target`.
    typealias Responder = @Sendable (_ target: String, _ count: Int) -> Answer

    /// The targets requested so far, in order.
    final class Requests: Sendable {
        private let targets = Mutex<[String]>([])

        var all: [String] { targets.withLock { $0 } }

        func record(_ target: String) -> Int {
            targets.withLock { targets in
                targets.append(target)
                return targets.count
            }
        }
    }

    /// Runs `body` with the base URL of a server answering with `respond`, then stops the server.
    static func run<T>(_ respond: @escaping Responder, _ body: (String, Requests) async throws -> T) async throws -> T {
        let requests = Requests()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(respond: respond, requests: requests))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let result: Result<T, any Error>
        do {
            result = .success(try await body("http://127.0.0.1:\(channel.localAddress?.port ?? 0)", requests))
        } catch {
            result = .failure(error)
        }
        try await channel.close()
        return try result.get()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let respond: Responder
        let requests: Requests
        private var target = ""

        init(respond: @escaping Responder, requests: Requests) {
            self.respond = respond
            self.requests = requests
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                target = head.uri
            case .body:
                break
            case .end:
                let answer = respond(target, requests.record(target))
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
                for (name, value) in answer.headers { headers.add(name: name, value: value) }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
