import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import NIOCore

/// A successful OKX envelope: `{"code":"0","msg":"","data":[...]}`.
///
/// ```swift
/// router.get("public/time") { _, _ in OKXResponse([ServerTime(ts: "1597026383085")]) }
/// ```
public struct OKXResponse<Item: Encodable & Sendable>: ResponseGenerator, Sendable {
    public let data: [Item]
    public var headers: HTTPFields = [:]
    /// "0"; batch and order endpoints answer "1" (all failed) or "2" (some failed) with per-item `sCode`s.
    public var code = "0"
    public var msg = ""

    public init(_ data: [Item]) {
        self.data = data
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        OKXBody(try body(), headers: headers).response(from: request, context: context)
    }

    /// The encoded envelope.
    func body() throws -> ByteBuffer {
        try OKXJSON.encode(Envelope(code: code, msg: msg, data: data))
    }

    struct Envelope: Encodable {
        let code: String
        let msg: String
        let data: [Item]
    }
}

/// A successful response whose envelope is already encoded (precomputed or rendered from a template).
struct OKXBody: ResponseGenerator, Sendable {
    let body: ByteBuffer
    var headers: HTTPFields = [:]

    init(_ body: ByteBuffer, headers: HTTPFields = [:]) {
        self.body = body
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: body))
    }
}

extension OKXError {
    /// The error envelope `{"code":"…","msg":"…","data":[]}` with this code's HTTP status.
    public func response(extraHeaders: HTTPFields = [:]) -> Response {
        let body = OKXJSON.errorBody(code: code, message: message)
        var fields = extraHeaders
        fields[.contentType] = "application/json"
        if let retry = retryAfterMilliseconds {
            fields[.retryAfter] = String((retry + 999) / 1000)
        }
        return Response(status: .init(code: httpStatus), headers: fields, body: .init(byteBuffer: body))
    }
}

/// JSON encoding shared by every response.
enum OKXJSON {
    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return ByteBuffer(data: try encoder.encode(value))
    }

    static func errorBody(code: String, message: String) -> ByteBuffer {
        struct ErrorEnvelope: Encodable {
            let code: String
            let msg: String
            let data: [String]
        }
        return (try? encode(ErrorEnvelope(code: code, msg: message, data: [])))
            ?? ByteBuffer(string: "{\"code\":\"50026\",\"msg\":\"System error. Try again later\",\"data\":[]}")
    }
}
