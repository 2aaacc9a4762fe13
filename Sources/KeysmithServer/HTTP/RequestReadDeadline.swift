import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time: from the first byte of a request to the end of its
/// body may take at most `timeout` (a client that trickles its headers — slowloris — or its body holds nothing for
/// long). Idle keep-alive connections are closed separately by Hummingbird's idle timeout.
///
/// Two handlers share one deadline: ``ByteWatcher`` sits first in the pipeline and arms the deadline when bytes of
/// a new request arrive; ``PartWatcher`` sits after HTTP decoding and disarms it when the request's end is read.
/// Both run on the connection's event loop, so the shared state needs no lock.
///
/// ```swift
/// HTTP1Channel.Configuration(additionalChannelHandlers: RequestReadDeadline.handlers(timeout: .seconds(10)))
/// ```
final class RequestReadDeadline {
    private let timeout: TimeAmount
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
            scheduled = nil
            guard reading else { return }
            partContext?.close(promise: nil)
        }
    }

    fileprivate func requestEnded() {
        reading = false
        scheduled?.cancel()
        scheduled = nil
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

    /// After HTTP decoding: the end of a request disarms the deadline. Adds its ``ByteWatcher`` at the front of the
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
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadline.requestEnded()
            deadline.partContext = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .end = unwrapInboundIn(data) { deadline.requestEnded() }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            deadline.requestEnded()
            context.fireChannelInactive()
        }
    }
}
