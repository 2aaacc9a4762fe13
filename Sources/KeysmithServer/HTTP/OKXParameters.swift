import Foundation
import KeysmithApp
import KeysmithCore
import NIOCore

/// The parameters of an OKX request: the query of a GET or the JSON object body of a POST.
///
/// `""` and JSON `null` mean "absent" (python-okx sends every parameter of a method, empty ones as `""`).
/// Values are strings on the wire; integers and booleans are accepted and read as their text.
///
/// ```swift
/// let params = try OKXParameters(jsonBody: context.body)
/// let name = try params.required("subAcct")      // 50014 when missing or empty
/// let label = params.optional("label")           // nil when missing, "" or null
/// ```
public struct OKXParameters: Sendable {
    /// Every key as sent; nil for JSON null.
    private let values: [String: String?]

    public init(_ values: [String: String?]) {
        self.values = values
    }

    /// The query parameters of a request target (percent-decoded, `+` kept as sent).
    public init(query: String?) {
        var values: [String: String?] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            if values[name] == nil { values[name] = value }
        }
        self.values = values
    }

    /// The members of a JSON object body. An empty body is 50000; invalid JSON or a non-object is 50002.
    public init(jsonBody body: ByteBuffer) throws(OKXError) {
        guard body.readableBytes > 0 else { throw OKXError.emptyBody }
        let object: [String: JSONScalar]
        do {
            object = try JSONDecoder().decode([String: JSONScalar].self, from: Data(buffer: body))
        } catch {
            throw OKXError.jsonSyntax
        }
        self.values = object.mapValues(\.text)
    }

    /// The objects of a JSON array body (`batch-orders`); a single object counts as a list of one.
    public static func list(jsonBody body: ByteBuffer) throws(OKXError) -> [OKXParameters] {
        guard body.readableBytes > 0 else { throw OKXError.emptyBody }
        if let objects = try? JSONDecoder().decode([[String: JSONScalar]].self, from: Data(buffer: body)) {
            return objects.map { OKXParameters($0.mapValues(\.text)) }
        }
        return [try OKXParameters(jsonBody: body)]
    }

    /// The value, or nil when missing, `""` or `null`.
    public func optional(_ name: String) -> String? {
        guard let value = values[name] ?? nil, !value.isEmpty else { return nil }
        return value
    }

    /// The value, or 50014 "Parameter NAME can not be empty."
    public func required(_ name: String) throws(OKXError) -> String {
        guard let value = optional(name) else { throw OKXError.parameterEmpty(name) }
        return value
    }

    /// A whole number within `range` (51000 naming the parameter otherwise), or `fallback` when absent: OKX's
    /// `limit`, `sz` (book depth) and the like.
    public func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws(OKXError) -> Int {
        guard let text = optional(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw OKXError.parameterError(name).with(message: "Parameter \(name) error: \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A caller-chosen id (`clientId`, `clOrdId`): up to 32 letters and digits, "" when absent; 51000 otherwise.
    public func clientIdentifier(_ name: String) throws(OKXError) -> String {
        let value = optional(name) ?? ""
        guard value.count <= 32, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw OKXError.parameterError(name).with(message: "Parameter \(name) error: up to 32 letters and digits")
        }
        return value
    }

    /// The value exactly as sent, `""` included; nil when missing or `null`. For parameters where an explicit
    /// empty string means something (modify-apikey's `ip: ""` unbinds every IP).
    public func exact(_ name: String) -> String? {
        values[name] ?? nil
    }
}

/// A JSON member value as text. Nested arrays and objects (e.g. `attachAlgoOrds`) read as absent here.
struct JSONScalar: Decodable {
    let text: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            text = nil
        } else if let string = try? container.decode(String.self) {
            text = string
        } else if let bool = try? container.decode(Bool.self) {
            text = bool ? "true" : "false"
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else if let number = try? container.decode(Decimal.self) {
            text = "\(number)"
        } else {
            text = nil
        }
    }
}
