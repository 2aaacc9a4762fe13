import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore
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
    /// Every key as sent; nil for JSON null, an array or an object.
    private let values: [String: String?]
    /// The keys whose value is a JSON array or object (not a scalar).
    private var structured: Set<String> = []

    public init(_ values: [String: String?]) {
        self.values = values
    }

    /// The members of a JSON object, scalars as text.
    init(_ object: [String: JSONScalar]) {
        self.values = object.mapValues(\.text)
        self.structured = Set(object.filter(\.value.isStructured).keys)
    }

    /// Whether the request gave `name` a value: non-empty text, or an array or object.
    public func sent(_ name: String) -> Bool {
        optional(name) != nil || structured.contains(name)
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
        self = OKXParameters(object)
    }

    /// The objects of a JSON array body (`batch-orders`); a single object counts as a list of one.
    public static func list(jsonBody body: ByteBuffer) throws(OKXError) -> [OKXParameters] {
        guard body.readableBytes > 0 else { throw OKXError.emptyBody }
        if let objects = try? JSONDecoder().decode([[String: JSONScalar]].self, from: Data(buffer: body)) {
            return objects.map { OKXParameters($0) }
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

    /// OKX's `limit`: a whole number from 1, `fallback` when absent, and at most `maximum` — a larger one answers
    /// `maximum` records, as OKX does (`candles?limit=1000` returns 300); 51000 for anything but a positive number.
    public func limit(maximum: Int, default fallback: Int = 100) throws(OKXError) -> Int {
        guard let text = optional("limit") else { return fallback }
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), text.utf8.contains(where: { $0 != UInt8(ascii: "0") })
        else {
            throw OKXError.parameterError("limit").with(message: "Parameter limit error: a whole number from 1 (at most \(maximum) are returned)")
        }
        // A number too long for Int is still "more than the maximum".
        return min(Int(text) ?? maximum, maximum)
    }

    /// A non-negative whole number (an id or a millisecond time), nil when absent; 51000 naming it otherwise.
    public func wholeNumber(_ name: String) throws(OKXError) -> Int64? {
        guard let text = optional(name) else { return nil }
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int64(text) else {
            throw OKXError.parameterError(name)
        }
        return value
    }

    /// OKX's paging parameters: `after` / `before` (ids, or times where the endpoint says so), `begin` / `end`
    /// (milliseconds) and `limit` (at most `maximum`); `begin` no earlier than `reach` back from `now` when the
    /// listing only reaches so far.
    public func page(maximum: Int = 100, reach: Int64? = nil, now: Int64) throws(OKXError) -> Page {
        var page = Page(
            after: try wholeNumber("after"), before: try wholeNumber("before"), begin: try wholeNumber("begin"),
            end: try wholeNumber("end"), limit: try limit(maximum: maximum))
        if let reach {
            let earliest = now - reach
            page.begin = max(page.begin ?? earliest, earliest)
        }
        return page
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
    /// An array or an object, which has no text.
    var isStructured = false

    init(text: String) {
        self.text = text
    }

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
            isStructured = true
        }
    }
}
