import KeysmithCore
import Testing

@Suite
struct QRCodeTests {
    /// The worked example of ISO/IEC 18004 Annex I: "01234567" as version 1-M has these data codewords and these 10
    /// error-correction codewords.
    @Test
    func reedSolomonMatchesTheStandardsExample() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ecc = ReedSolomon.remainder(data, divisor: ReedSolomon.divisor(degree: 10))
        #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
        // Appending the remainder makes the whole message divisible: its remainder is zero.
        #expect(ReedSolomon.remainder(data + ecc, divisor: ReedSolomon.divisor(degree: 10)) == Array(repeating: 0, count: 10))
    }

    /// Byte-mode capacities at level M from the standard's table: the largest text that fits each version, and one
    /// byte more moves to the next version.
    @Test(arguments: [(1, 14), (2, 26), (3, 42), (4, 62), (5, 84), (6, 106), (7, 122), (8, 152), (9, 180), (10, 213), (20, 666), (40, 2331)])
    func smallestVersionThatFits(version: Int, capacity: Int) throws {
        let fits = try #require(QRCode(String(repeating: "a", count: capacity)))
        #expect(fits.version == version && fits.size == version * 4 + 17)
        if version < 40 {
            let bigger = try #require(QRCode(String(repeating: "a", count: capacity + 1)))
            #expect(bigger.version == version + 1)
        } else {
            #expect(QRCode(String(repeating: "a", count: capacity + 1)) == nil)
        }
    }

    /// The structure a scanner looks for: three finder patterns, timing patterns, the dark module, and both copies
    /// of the format information naming level M and the chosen mask.
    @Test(arguments: ["otpauth://totp/Keysmith:ops@example.com?secret=KVLDEVKNKIZUKT2PGNCECVKRK5HVQNKX&issuer=Keysmith", "x",
                      String(repeating: "long-address.", count: 20)])
    func functionPatternsAndFormatInformation(text: String) throws {
        let code = try #require(QRCode(text))
        let m = code.modules, n = code.size
        for (cx, cy) in [(3, 3), (n - 4, 3), (3, n - 4)] {
            for dy in -3...3 {
                for dx in -3...3 {
                    let ring = max(abs(dx), abs(dy))
                    #expect(m[cy + dy][cx + dx] == (ring != 2), "finder at \(cx),\(cy)")
                }
            }
        }
        for i in 8..<(n - 8) {
            #expect(m[6][i] == (i % 2 == 0) && m[i][6] == (i % 2 == 0))
        }
        #expect(m[n - 8][8])
        var first = 0, second = 0
        let firstPositions = [(8, 0), (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 7), (8, 8), (7, 8), (5, 8), (4, 8), (3, 8), (2, 8), (1, 8), (0, 8)]
        for (i, (x, y)) in firstPositions.enumerated() where m[y][x] { first |= 1 << i }
        for i in 0..<8 where m[8][n - 1 - i] { second |= 1 << i }
        for i in 8..<15 where m[n - 15 + i][8] { second |= 1 << i }
        #expect(first == second)
        let format = first ^ 0x5412
        #expect(format >> 13 == 0b00, "level M")
        #expect((format >> 10) & 0b111 == code.mask)
    }

    @Test
    func svgHasAQuietZoneAndOnePathOfDarkModules() throws {
        let code = try #require(QRCode("otpauth://totp/Keysmith:a@b.c?secret=ABC&issuer=Keysmith"))
        let svg = code.svg(title: "set-up link")
        let side = code.size + 8
        #expect(svg.hasPrefix("<svg") && svg.contains("viewBox=\"0 0 \(side) \(side)\"") && svg.contains("aria-label=\"set-up link\""))
        let dark = code.modules.reduce(0) { $0 + $1.filter { $0 }.count }
        #expect(svg.components(separatedBy: "h1v1h-1z").count - 1 == dark)
        #expect(!svg.contains("M0,") && !svg.contains("M3,3h"), "the 4-module border stays light")
    }
}
