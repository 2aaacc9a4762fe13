import KeysmithApp
import KeysmithCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Reads a request target the one way the signature check reads it, before the HTTP/1 to HTTP-types conversion.
///
/// - Origin form (`/path?query`) and asterisk form (`*`) pass unchanged.
/// - Absolute form (`http://host:port/path?query`, RFC 9112 §3.2.2) becomes the origin form it names by removing
///   `scheme://authority` as text; every other byte stays as the client sent it.
/// - Anything else (`x:/path`, authority form `host:443`, `path` without its slash) is answered 400 with 51000 and
///   the connection closed.
///
/// Without it, the conversion re-parses a target with a scheme through `URLComponents`, which drops a fragment
/// (`http://host/api/v5/trade/order#x` became `/api/v5/trade/order`) and turns `x:/api/v5/…` into `/api/v5/…`:
/// a target the client never sent would be routed and checked as the signed one. With it, an absolute target is read
/// exactly as the same bytes in origin form are (a fragment stays, so it is not routed or fails the signature, as
/// it does there).
///
/// Sits right after NIO's HTTP/1 decoder; ``RequestReadDeadline/installBeforeUpgrade(timeout:in:)`` places it there.
final class OriginFormTarget: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A refused request's answer is written; everything after it on this connection is dropped.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        switch Self.form(of: head.uri) {
        case .origin:
            context.fireChannelRead(data)
        case .absolute(let origin):
            head.uri = origin
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .unsupported:
            refuse(head, context: context)
        }
    }

    private func refuse(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        refused = true
        let body = OKXJSON.errorBody(
            code: OKXError.incompleteRequest.code, message: "Parameter request error: the request target must be in origin or absolute form.")
        let headers = HTTPHeaders([
            ("Content-Type", "application/json"), ("Content-Length", "\(body.readableBytes)"), ("Connection", "close"),
        ])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .badRequest, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    enum Form: Equatable {
        case origin
        case absolute(origin: String)
        case unsupported
    }

    /// How `target` is read: see the type's documentation.
    static func form(of target: String) -> Form {
        if target.utf8.first == UInt8(ascii: "/") || target == "*" { return .origin }
        return originForm(of: target).map { .absolute(origin: $0) } ?? .unsupported
    }

    /// The origin form of an absolute-form target (`scheme://authority` removed; `/` added before a bare query or
    /// an empty path), or nil when `target` is not in absolute form.
    static func originForm(of target: String) -> String? {
        let bytes = target.utf8
        guard let first = bytes.first, first != UInt8(ascii: "/"), isLetter(first) else { return nil }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
        guard let colon = bytes.firstIndex(where: { !isSchemeByte($0) }), bytes[colon] == UInt8(ascii: ":") else { return nil }
        let afterColon = bytes[bytes.index(after: colon)...]
        guard afterColon.starts(with: "//".utf8) else { return nil }
        let authorityStart = afterColon.index(afterColon.startIndex, offsetBy: 2)
        let rest = bytes[authorityStart...]
        let pathStart = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? rest.endIndex
        let remainder = Substring(target.utf8[pathStart...])
        return remainder.first == "/" ? String(remainder) : "/" + remainder
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}
