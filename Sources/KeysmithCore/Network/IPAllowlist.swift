/// The IP allowlist of an API key: at most 20 addresses or CIDR ranges, IPv4 and IPv6.
/// An empty list means the key is not IP-bound and is accepted from anywhere.
///
/// ```swift
/// let list = try IPAllowlist(okx: "192.0.2.7,10.0.0.0/8,2001:db8::/32")
/// list.permits(try IPAddress("10.1.1.1"))   // true
/// list.okxString                            // "192.0.2.7,10.0.0.0/8,2001:db8::/32"
/// ```
public struct IPAllowlist: Sendable, Hashable {
    public static let maximumEntries = 20

    public let entries: [IPRange]

    public init(_ entries: [IPRange]) throws(OKXError) {
        guard entries.count <= Self.maximumEntries else { throw OKXError.tooManyIPs }
        var unique: [IPRange] = []
        for entry in entries where !unique.contains(entry) { unique.append(entry) }
        self.entries = unique
    }

    /// Parses entries given one by one (CLI flags); each may itself be a comma list.
    public init(parsing texts: [String]) throws(OKXError) {
        var ranges: [IPRange] = []
        for text in texts {
            for part in text.split(separator: ",") {
                let entry = part.trimmingSpaces()
                if entry.isEmpty { continue }
                do {
                    ranges.append(try IPRange(entry))
                } catch {
                    throw OKXError.parameterError("ip").with(message: "Parameter ip error: \(error)")
                }
            }
        }
        try self.init(ranges)
    }

    /// Parses OKX's comma form; `""` is the empty (unbound) list.
    public init(okx text: String) throws(OKXError) {
        try self.init(parsing: [text])
    }

    public static let empty = IPAllowlist(uncheckedEntries: [])

    private init(uncheckedEntries: [IPRange]) {
        self.entries = uncheckedEntries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// True when the list is empty (unbound key) or some entry contains the address.
    public func permits(_ address: IPAddress) -> Bool {
        entries.isEmpty || entries.contains { $0.contains(address) }
    }

    /// Whether some entry of this list contains every address of `range`.
    public func covers(_ range: IPRange) -> Bool {
        entries.contains { $0.prefixLength <= range.prefixLength && $0.contains(range.address) }
    }

    /// Whether this list admits an address `old` does not: unbinding a bound key, or adding an uncovered entry.
    /// Nothing is wider than the empty (unbound) list.
    public func isWider(than old: IPAllowlist) -> Bool {
        if old.isEmpty { return false }
        if isEmpty { return true }
        return entries.contains { !old.covers($0) }
    }

    /// The part of this list that `old` already allows — what may apply at once while the rest cools down. When
    /// nothing is left, `old` itself (never the empty list, which would unbind the key).
    public func narrowed(within old: IPAllowlist) -> IPAllowlist {
        if old.isEmpty { return self }
        let kept = entries.filter { old.covers($0) }
        return kept.isEmpty ? old : IPAllowlist(uncheckedEntries: kept)
    }

    /// The OKX comma form (no spaces).
    public var okxString: String { entries.map(\.description).joined(separator: ",") }
}
