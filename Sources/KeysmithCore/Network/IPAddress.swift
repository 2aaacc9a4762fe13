#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address held as 128 bits; IPv4 addresses are stored IPv4-mapped (`::ffff:a.b.c.d`),
/// so `192.0.2.1` and `::ffff:192.0.2.1` are the same address and match the same ranges.
///
/// ```swift
/// let a = try IPAddress("192.0.2.1")
/// let b = try IPAddress("::ffff:192.0.2.1")
/// a == b            // true
/// a.description     // "192.0.2.1"
/// ```
public struct IPAddress: Sendable, Hashable {
    /// High and low 64 bits, network order.
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    private static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"),
            UInt8(ascii: "."), UInt8(ascii: ":"):
            true
        default: false
        }
    }

    /// Parses a dotted IPv4 or textual IPv6 address (no zone, no brackets, no port), via the C library's `inet_pton`.
    public init(_ text: some StringProtocol) throws(IPAddressError) {
        let string = String(text)
        guard !string.isEmpty, string.utf8.count <= 45 else { throw IPAddressError(entry: string, reason: "not an IP address") }
        // Only the characters of the two textual forms: `inet_pton` reads a C string, so it would stop at a NUL byte
        // (JSON allows `\u0000`) and take `10.0.0.1\u0000evil` for `10.0.0.1`.
        guard string.utf8.allSatisfy(Self.isAddressByte) else {
            throw IPAddressError(entry: string, reason: "not an IPv4 or IPv6 address")
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value))
            return
        }
        var v6 = in6_addr()
        guard string.contains(":"), inet_pton(AF_INET6, string, &v6) == 1 else {
            throw IPAddressError(entry: string, reason: "not an IPv4 or IPv6 address")
        }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        self.init(high: Self.word(bytes[0..<8]), low: Self.word(bytes[8..<16]))
    }

    /// Whether this is an IPv4 address (including the IPv4-mapped IPv6 form).
    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    private static func word(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { ($0 << 8) | UInt64($1) }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted form for IPv4, the canonical compressed form (RFC 5952, via `inet_ntop`) for IPv6.
    public var description: String {
        if isIPv4 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        }
        return ipv6Description
    }

    /// The RFC 5952 IPv6 text, IPv4-mapped addresses included (`::ffff:192.0.2.1`).
    public var ipv6Description: String {
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { raw in
            for i in 0..<8 {
                raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
                raw[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
            }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why an allowlist entry or address could not be parsed. The entry is the caller's own input, never a secret.
public struct IPAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    public let entry: String
    public let reason: String

    public var description: String { "'\(entry)': \(reason)" }
}

extension IPAddress {
    /// The network of this address that one client controls: IPv4 addresses as they are, IPv6 addresses with all
    /// but their first `ipv6PrefixLength` bits cleared (a /64 is what one subscriber is usually given, so counting per
    /// address would let one client rotate through fresh counters). Lengths outside 0…128 are clamped.
    public func clientNetwork(ipv6PrefixLength: Int) -> IPAddress {
        guard !isIPv4 else { return self }
        let bits = min(128, max(0, ipv6PrefixLength))
        func mask(_ word: UInt64, keeping count: Int) -> UInt64 {
            count >= 64 ? word : count <= 0 ? 0 : word & ~(UInt64.max >> UInt64(count))
        }
        return IPAddress(high: mask(high, keeping: bits), low: mask(low, keeping: bits - 64))
    }
}
