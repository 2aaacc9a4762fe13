import KeysmithApp
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head does not arrive in time: from the first byte of a request to the end of
/// its head may take at most `timeout` (a client that trickles its headers — slowloris — holds nothing for long).
/// Idle keep-alive connections, and bodies that stop arriving, are closed by Hummingbird's idle timeout.
///
/// The body is deliberately not covered: once the head is read, the server reads the body only as fast as its
/// handler asks for it, so a deadline there would measure the server as much as the client.
///
/// Two handlers share one deadline: ``ByteWatcher`` sits first in the pipeline and arms the deadline when bytes of
/// a new request arrive; ``PartWatcher`` sits after HTTP decoding and disarms it when the request's head is read and
/// ends the request at its end. Both run on the connection's event loop, so the shared state needs no lock.
///
/// ```swift
/// HTTP1Channel.Configuration(additionalChannelHandlers: RequestReadDeadline.handlers(timeout: .seconds(10)))
/// ```
final class RequestReadDeadline {
    private let timeout: TimeAmount
    /// Bytes of a request have arrived and its end has not been read yet.
    private var reading = false
    private var scheduled: Scheduled<Void>?
    private var partContext: ChannelHandlerContext?

    private init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// The handlers of one new connection (call once per connection).
    static func handlers(timeout: Duration) -> [any RemovableChannelHandler] {
        let nanoseconds = timeout.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let deadline = RequestReadDeadline(timeout: .nanoseconds(nanoseconds.overflow ? .max : nanoseconds.partialValue))
        return [PartWatcher(deadline: deadline)]
    }

    fileprivate func requestBytesArrived(on loop: any EventLoop) {
        guard !reading else { return }
        reading = true
        scheduled = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            guard scheduled != nil else { return }
            scheduled = nil
            partContext?.close(promise: nil)
        }
    }

    fileprivate func headArrived() {
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

        private let deadline: RequestReadDeadline

        init(deadline: RequestReadDeadline) {
            self.deadline = deadline
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            deadline.requestBytesArrived(on: context.eventLoop)
            context.fireChannelRead(data)
        }
    }

    /// After HTTP decoding: the head of a request disarms the deadline; its end lets the next one arm it. Adds its ``ByteWatcher`` at the front of the
    /// pipeline when it is added itself.
    final class PartWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart

        private let deadline: RequestReadDeadline

        init(deadline: RequestReadDeadline) {
            self.deadline = deadline
        }

        func handlerAdded(context: ChannelHandlerContext) {
            deadline.partContext = context
            try? context.pipeline.syncOperations.addHandler(ByteWatcher(deadline: deadline), position: .first)
            OriginFormTarget.install(in: context.pipeline.syncOperations)
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadline.requestEnded()
            deadline.partContext = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: deadline.headArrived()
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
