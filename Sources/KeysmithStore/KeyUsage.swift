import KeysmithCore

/// One key's latest use.
public struct KeyUsage: Sendable, Hashable {
    public var apiKey: String
    public var at: Int64
    public var ip: String?

    public init(apiKey: String, at: Int64, ip: String?) {
        self.apiKey = apiKey
        self.at = at
        self.ip = ip
    }
}
