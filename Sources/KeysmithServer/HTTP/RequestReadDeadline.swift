import KeysmithApp
import KeysmithCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import NIOHTTP1
import NIOHTTPTypes

/// Closes a connection whose request head does not arrive in time: from the first byte of a request to the end of
/// its head may take at most `timeout` (a client that trickles its headers — slowloris — holds nothing for long).
/// Idle keep-alive connections, and bodies that stop arriving, are closed by Hummingbird's idle timeout.
///
/// The body is deliberately not covered: once the head is read, the server reads the body only as fast as its
/// handler asks for it, so a deadline there would measure the server as much as the client.
///
/// Two handlers share one deadline: ``ByteWatcher`` sits first in the pipeline and arms the deadline when bytes of
/// a new request arrive; ``HeadWatcher`` sits after HTTP decoding and disarms it when the request's head is read and
/// ends the request at its end. Both run on the connection's event loop, so the shared state needs no lock.
///
/// ```swift
/// try RequestReadDeadline.installBeforeUpgrade(timeout: .seconds(10), in: channel.pipeline.syncOperations)
/// ```
final class RequestReadDeadline {
    private let timeout: TimeAmount
    /// Bytes of a request have arrived and its end has not been read yet.
    private var reading = false
    /// The connection became a WebSocket: its bytes are frames, not requests.
    fileprivate var upgraded = false
    private var scheduled: Scheduled<Void>?
    private var partContext: ChannelHandlerContext?

    private init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    fileprivate func requestBytesArrived(on loop: any EventLoop) {
        guard !reading, !upgraded else { return }
        reading = true
        scheduled = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            guard scheduled != nil else { return }
            scheduled = nil
            partContext?.close(promise: nil)
        }
    }

    /// Whether a request head was ever read on the connection.
    fileprivate var sawHead = false

    fileprivate func headArrived() {
        sawHead = true
        scheduled?.cancel()
        scheduled = nil
    }

    fileprivate func requestEnded() {
        reading = false
        headArrived()
    }

    /// First in the pipeline: sees raw bytes, so a request that has not finished its head is timed too.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        fileprivate let deadline: RequestReadDeadline

        init(deadline: RequestReadDeadline) {
            self.deadline = deadline
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            deadline.requestBytesArrived(on: context.eventLoop)
            context.fireChannelRead(data)
        }
    }
}

extension RequestReadDeadline {
    /// Installs the deadline and ``OriginFormTarget`` on a connection whose pipeline can upgrade to a WebSocket:
    /// ``ByteWatcher`` first, and after NIO's HTTP/1 decoder — ahead of the upgrade handler, so the first request's
    /// head is timed and read the same way as every later one — ``OriginFormTarget`` and ``HeadWatcher``. A head that
    /// asks for a WebSocket takes both HTTP handlers out and stops the deadline for good: what follows is frames.
    static func installBeforeUpgrade(timeout: Duration, in pipeline: ChannelPipeline.SynchronousOperations) throws {
        let nanoseconds = timeout.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let deadline = RequestReadDeadline(timeout: .nanoseconds(nanoseconds.overflow ? .max : nanoseconds.partialValue))
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        // A request the HTTP parser refuses is answered 400 and closed (the upgradable pipeline has no handler for it).
        let errors = ParseErrorResponder()
        let target = OriginFormTarget()
        try pipeline.addHandler(ByteWatcher(deadline: deadline), position: .first)
        try pipeline.addHandler(errors, position: .after(decoder))
        try pipeline.addHandler(target, position: .after(errors))
        try pipeline.addHandler(HeadWatcher(deadline: deadline, httpHandlers: [errors, target]), position: .after(target))
    }

    /// After NIO's HTTP/1 decoder and before the upgrade handler: the head of a request disarms the deadline; its
    /// end lets the next one arm it.
    final class HeadWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart

        private let deadline: RequestReadDeadline
        /// The handlers of HTTP parts before this one, taken out with it when the connection becomes a WebSocket.
        private let httpHandlers: [any RemovableChannelHandler]

        init(deadline: RequestReadDeadline, httpHandlers: [any RemovableChannelHandler]) {
            self.deadline = deadline
            self.httpHandlers = httpHandlers
        }

        func handlerAdded(context: ChannelHandlerContext) {
            deadline.partContext = context
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                deadline.headArrived()
                if head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
                    deadline.upgraded = true
                    context.fireChannelRead(data)
                    for handler in httpHandlers { context.pipeline.syncOperations.removeHandler(handler, promise: nil) }
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                    return
                }
            case .body: break
            case .end: deadline.requestEnded()
            }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            deadline.requestEnded()
            context.fireChannelInactive()
        }
    }
}

/// Answers a request NIO's HTTP/1 parser refused with 400 and an empty body, and closes the connection (what NIO's
/// own protocol error handler answers on a pipeline that cannot upgrade).
final class ParseErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// hummingbird-websocket logs a connection that ends before its first request was read (a client that closed, a
/// request the parser refused, a head that missed its deadline) as "Error handling upgrade result" at error level;
/// for a server that is the client's doing, so it is logged at debug, and everything else as it comes.
struct UpgradeNoiseFilter: LogHandler {
    var inner: any LogHandler

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String,
        line: UInt
    ) {
        let downgraded = level == .error && message.description == "Error handling upgrade result"
        guard !downgraded || inner.logLevel <= .debug else { return }
        inner.log(
            level: downgraded ? .debug : level, message: message, metadata: metadata, source: source, file: file, function: function,
            line: line)
    }

    static func wrapping(_ logger: Logger) -> Logger {
        var filtered = logger
        filtered.handler = UpgradeNoiseFilter(inner: logger.handler)
        return filtered
    }
}

/// A server child channel that guards `Inner`'s HTTP/1 pipeline (one that may upgrade to a WebSocket) with the
/// request-head deadline and the origin-form target reading before anything else reads a request.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner
    let requestReadTimeout: Duration
    /// TLS in front of everything else, when the server serves HTTPS (as HummingbirdTLS's `TLSChannel` sets it up).
    var tls: NIOSSLContext? = nil

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        channel.eventLoop.makeCompletedFuture {
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            try RequestReadDeadline.installBeforeUpgrade(timeout: requestReadTimeout, in: channel.pipeline.syncOperations)
            return value
        }
    }

    func handle(value: Inner.Value, logger: Logger) async {
        let channel = value.channel
        await withGracefulShutdownHandler {
            await inner.handle(value: value, logger: UpgradeNoiseFilter.wrapping(logger))
        } onGracefulShutdown: {
            // A connection whose first request never came (a browser's spare connection) waits on nothing Hummingbird
            // closes at shutdown: close it here. Those serving HTTP close when idle, WebSockets with a notice.
            channel.eventLoop.execute {
                guard let watcher = try? channel.pipeline.syncOperations.handler(type: RequestReadDeadline.ByteWatcher.self),
                    !watcher.deadline.sawHead
                else { return }
                channel.close(promise: nil)
            }
        }
    }
}
