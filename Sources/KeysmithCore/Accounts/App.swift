/// A third-party app keys can be linked to (seed 000: "Linking third-party app"), with the addresses it calls from.
/// A key created for an app takes the app's allowlist, and follows it when the app's addresses change.
///
/// ```swift
/// let app = try App(name: "3commas", allowlist: IPAllowlist(okx: "203.0.113.0/28"), url: "https://3commas.io", createdAt: now)
/// ```
public struct App: Sendable, Hashable {
    public let name: String
    public var allowlist: IPAllowlist
    public var url: String?
    public let createdAt: Int64

    public init(name: String, allowlist: IPAllowlist, url: String? = nil, createdAt: Int64) throws(OKXError) {
        let allowed = name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard (1...50).contains(name.utf8.count), allowed else {
            throw OKXError.parameterError("app").with(
                message: "Parameter app error: an app name is 1 to 50 letters, digits, '-', '_' or '.'")
        }
        guard !allowlist.isEmpty else {
            throw OKXError.parameterError("ip").with(
                message: "Parameter ip error: an app needs the addresses it calls from (at least one --ip)")
        }
        if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw OKXError.parameterError("url").with(message: "Parameter url error: use an http(s) URL")
        }
        self.name = name
        self.allowlist = allowlist
        self.url = url
        self.createdAt = createdAt
    }
}
