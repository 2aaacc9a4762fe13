/// A QR code (ISO/IEC 18004, Model 2) of a short text in byte mode with error-correction level M, for the TOTP
/// set-up link on the enrolment page. Versions 1–40; the smallest that fits is used and the mask with the lowest
/// penalty score is chosen, as the standard describes. Rendered as inline SVG.
public struct QRCode: Sendable {
    /// Modules, row by row; `true` is dark.
    public let modules: [[Bool]]
    public let version: Int
    public let mask: Int

    public var size: Int { modules.count }

    /// Nil when the text does not fit in version 40.
    public init?(_ text: String) {
        let data = Array(text.utf8)
        guard let version = (1...40).first(where: { Self.capacityBits(version: $0) >= Self.payloadBits(count: data.count, version: $0) })
        else { return nil }
        var grid = Grid(version: version)
        grid.drawFunctionPatterns()
        grid.drawCodewords(Self.interleaved(Self.dataCodewords(data, version: version), version: version))
        var best = (mask: 0, penalty: Int.max)
        for mask in 0..<8 {
            grid.applyMask(mask)
            grid.drawFormatBits(mask: mask)
            let penalty = grid.penalty()
            if penalty < best.penalty { best = (mask, penalty) }
            grid.applyMask(mask)  // XOR again undoes it
        }
        grid.applyMask(best.mask)
        grid.drawFormatBits(mask: best.mask)
        self.modules = grid.modules
        self.version = version
        self.mask = best.mask
    }

    /// The code as an SVG image with the standard 4-module quiet zone, one path for all dark modules, drawn at
    /// `pixelsPerModule` so every module is the same whole number of pixels.
    public func svg(title: String = "QR code", pixelsPerModule: Int = 4) -> String {
        let border = 4
        var path = ""
        for (y, row) in modules.enumerated() {
            for (x, dark) in row.enumerated() where dark {
                path += "M\(x + border),\(y + border)h1v1h-1z"
            }
        }
        let side = size + 2 * border
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(side * pixelsPerModule)" height="\(side * pixelsPerModule)" \
            viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges" role="img" \
            aria-label="\(title)"><rect width="100%" height="100%" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }

    // MARK: Capacity (level M)

    static let eccCodewordsPerBlock = [
        10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ]
    static let errorCorrectionBlocks = [
        1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ]

    /// Modules available for codewords (everything but function patterns and format/version information).
    static func rawDataModules(version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    public static func dataCodewordCount(version: Int) -> Int {
        rawDataModules(version: version) / 8 - eccCodewordsPerBlock[version - 1] * errorCorrectionBlocks[version - 1]
    }

    static func capacityBits(version: Int) -> Int { dataCodewordCount(version: version) * 8 }

    static func countBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    static func payloadBits(count: Int, version: Int) -> Int {
        count < (1 << countBits(version: version)) ? 4 + countBits(version: version) + 8 * count : Int.max
    }

    // MARK: Codewords

    /// Mode indicator, count, bytes, terminator and padding, as data codewords.
    static func dataCodewords(_ data: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ length: Int) {
            for i in stride(from: length - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        append(0b0100, 4)
        append(data.count, countBits(version: version))
        for byte in data { append(Int(byte), 8) }
        let capacity = capacityBits(version: version)
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while codewords.count < capacity / 8 {
            codewords.append(pad)
            pad ^= 0xEC ^ 0x11
        }
        return codewords
    }

    /// Splits data into blocks, appends each block's Reed–Solomon codewords, and interleaves them.
    static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let blockCount = errorCorrectionBlocks[version - 1]
        let eccLength = eccCodewordsPerBlock[version - 1]
        let raw = rawDataModules(version: version) / 8
        let shortBlocks = blockCount - raw % blockCount
        let shortLength = raw / blockCount
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var blocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortLength - eccLength + (index < shortBlocks ? 0 : 1)
            let chunk = Array(data[offset..<offset + length])
            offset += length
            blocks.append(chunk + ReedSolomon.remainder(chunk, divisor: divisor))
        }
        var result: [UInt8] = []
        let longest = shortLength + 1
        for i in 0..<longest {
            for (index, block) in blocks.enumerated() {
                // Short blocks have one data codeword fewer; their ECC codewords line up with the long blocks'.
                let isShort = index < shortBlocks
                if isShort && i == shortLength - eccLength { continue }
                let position = isShort && i > shortLength - eccLength ? i - 1 : i
                if position < block.count { result.append(block[position]) }
            }
        }
        return result
    }

    // MARK: The module grid

    struct Grid {
        let version: Int
        let size: Int
        var modules: [[Bool]]
        var isFunction: [[Bool]]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            modules = Array(repeating: Array(repeating: false, count: size), count: size)
            isFunction = modules
        }

        mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y][x] = dark
            isFunction[y][x] = true
        }

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            drawFinder(3, 3)
            drawFinder(size - 4, 3)
            drawFinder(3, size - 4)
            let positions = alignmentPositions()
            let last = positions.count - 1
            for (i, x) in positions.enumerated() {
                for (j, y) in positions.enumerated() {
                    // Not where the finder patterns are.
                    if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                    drawAlignment(x, y)
                }
            }
            drawFormatBits(mask: 0)  // reserves the area; redrawn with the chosen mask
            drawVersion()
        }

        func alignmentPositions() -> [Int] {
            guard version > 1 else { return [] }
            let count = version / 7 + 2
            let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
            var result = [6]
            var position = size - 7
            while result.count < count {
                result.insert(position, at: 1)
                position -= step
            }
            return result
        }

        mutating func drawFinder(_ cx: Int, _ cy: Int) {
            for dy in -4...4 {
                for dx in -4...4 {
                    let x = cx + dx, y = cy + dy
                    guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                    let distance = max(abs(dx), abs(dy))
                    set(x, y, distance != 2 && distance != 4)
                }
            }
        }

        mutating func drawAlignment(_ cx: Int, _ cy: Int) {
            for dy in -2...2 {
                for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
            }
        }

        /// Level M (format bits 00) and the mask, BCH-coded, in both copies; plus the dark module.
        mutating func drawFormatBits(mask: Int) {
            let data = 0b00 << 3 | mask
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)
        }

        mutating func drawVersion() {
            guard version >= 7 else { return }
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let dark = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                set(a, b, dark)
                set(b, a, dark)
            }
        }

        /// Places codeword bits in the two-column zigzag from the bottom right, skipping function modules.
        mutating func drawCodewords(_ codewords: [UInt8]) {
            var index = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vertical in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vertical : vertical
                        guard !isFunction[y][x], index < codewords.count * 8 else { continue }
                        modules[y][x] = (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
                    }
                }
                right -= 2
            }
        }

        mutating func applyMask(_ mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y][x] {
                    let invert: Bool
                    switch mask {
                    case 0: invert = (x + y) % 2 == 0
                    case 1: invert = y % 2 == 0
                    case 2: invert = x % 3 == 0
                    case 3: invert = (x + y) % 3 == 0
                    case 4: invert = (x / 3 + y / 2) % 2 == 0
                    case 5: invert = x * y % 2 + x * y % 3 == 0
                    case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0
                    default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                    if invert { modules[y][x].toggle() }
                }
            }
        }

        /// The standard's four penalty rules: runs of five or more, 2×2 blocks, finder-like patterns, dark balance.
        func penalty() -> Int {
            var score = 0
            let finderLike: [Bool] = [true, false, true, true, true, false, true, false, false, false, false]
            let reversed = Array(finderLike.reversed())
            for line in lines() {
                var run = 1
                for i in 1..<line.count {
                    if line[i] == line[i - 1] {
                        run += 1
                    } else {
                        if run >= 5 { score += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { score += run - 2 }
                for start in 0...(line.count - finderLike.count) {
                    let window = line[start..<start + finderLike.count]
                    if window.elementsEqual(finderLike) || window.elementsEqual(reversed) { score += 40 }
                }
            }
            for y in 0..<size - 1 {
                for x in 0..<size - 1 {
                    let colour = modules[y][x]
                    if modules[y][x + 1] == colour && modules[y + 1][x] == colour && modules[y + 1][x + 1] == colour { score += 3 }
                }
            }
            let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
            let total = size * size
            score += ((abs(dark * 20 - total * 10) + total - 1) / total - 1) * 10
            return score
        }

        /// Every row and every column.
        func lines() -> [[Bool]] {
            modules + (0..<size).map { x in modules.map { $0[x] } }
        }
    }
}

/// Reed–Solomon error correction over GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
public enum ReedSolomon {
    public static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> UInt8(i)) & 1) * Int(x)
        }
        return UInt8(z & 0xFF)
    }

    /// The generator polynomial of the given degree, highest coefficient (1) dropped.
    public static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    public static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
