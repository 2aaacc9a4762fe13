/// OKX's order-book checksum: CRC-32 (IEEE 802.3, as zlib computes it) of the top 25 bids and asks interleaved —
/// `bid1px:bid1sz:ask1px:ask1sz:bid2px:…`, a side with fewer levels leaving its turns out — read as a signed 32-bit
/// integer. The prices and sizes are the texts as pushed, so a client that applied the same pushes gets the same
/// value.
enum BookChecksum {
    static func of(bids: [[String]], asks: [[String]]) -> Int32 {
        var parts: [String] = []
        for index in 0..<25 {
            if index < bids.count { parts += [bids[index][0], bids[index][1]] }
            if index < asks.count { parts += [asks[index][0], asks[index][1]] }
        }
        return Int32(bitPattern: crc32(Array(parts.joined(separator: ":").utf8)))
    }

    /// CRC-32 with the reflected polynomial 0xEDB88320 (not a cryptographic function: an error-detecting code).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }
}
