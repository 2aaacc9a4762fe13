/// An address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`), IPv4 or IPv6.
///
/// IPv4 ranges are held as IPv4-mapped IPv6 ranges (`/n` becomes `/96+n`), so one comparison serves both families.
/// A range whose address has bits set beyond its prefix (`10.0.0.1/8`) is rejected as ambiguous.
///
/// ```swift
/// let range = try IPRange("10.0.0.0/8")
/// range.contains(try IPAddress("10.2.3.4"))          // true
/// range.contains(try IPAddress("::ffff:10.2.3.4"))   // true
/// ```
public struct IPRange: Sendable, Hashable {
    public let address: IPAddress
    /// Prefix length over 128 bits.
    public let prefixLength: Int

    public init(_ text: some StringProtocol) throws(IPAddressError) {
        let entry = String(text)
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw IPAddressError(entry: entry, reason: "more than one '/'") }
        let address = try IPAddress(parts[0])
        // The text decides the family of the prefix: `::ffff:0:0/96` is an IPv6 prefix even though it covers IPv4.
        let isIPv4Text = !parts[0].contains(":")
        let familyBits = isIPv4Text ? 32 : 128
        var length = familyBits
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...familyBits).contains(parsed), parts[1].allSatisfy(\.isASCIIDigit) else {
                throw IPAddressError(entry: entry, reason: "prefix length must be 0 to \(familyBits)")
            }
            length = parsed
        }
        self.prefixLength = isIPv4Text ? 96 + length : length
        self.address = address
        guard Self.masked(address, prefixLength) == address else {
            let network = Self.masked(address, prefixLength)
            throw IPAddressError(
                entry: entry, reason: "host bits are set; the network is \(network)/\(length)")
        }
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        Self.masked(candidate, prefixLength) == address
    }

    private static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        IPAddress(high: address.high & mask(length), low: address.low & mask(length - 64))
    }

    private static func mask(_ bits: Int) -> UInt64 {
        if bits <= 0 { return 0 }
        if bits >= 64 { return .max }
        return ~(UInt64.max >> UInt64(bits))
    }
}

extension IPRange: CustomStringConvertible {
    /// An address alone for a single host, else `network/prefix` in the address's own family.
    public var description: String {
        if address.isIPv4 && prefixLength >= 96 {
            return prefixLength == 128 ? address.description : "\(address)/\(prefixLength - 96)"
        }
        return prefixLength == 128 ? address.ipv6Description : "\(address.ipv6Description)/\(prefixLength)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
