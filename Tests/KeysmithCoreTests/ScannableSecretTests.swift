import KeysmithCore
import Testing

struct ScannableSecretTests {
    /// Reference values from zlib (`zlib.crc32`): the standard check value and a pangram.
    @Test
    func crc32MatchesZlib() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 1_095_738_169)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test
    func generatedSecretsHaveTheShapeAndAValidChecksum() {
        let secrets = (0..<200).map { _ in ScannableSecret.generate() }
        #expect(Set(secrets).count == 200)
        for secret in secrets {
            #expect(secret.hasPrefix("ks_"))
            #expect(secret.count == 39)
            #expect(ScannableSecret.isValid(secret))
        }
    }

    @Test
    func anyChangeBreaksTheChecksum() {
        let secret = ScannableSecret.generate()
        var bytes = Array(secret.utf8)
        for position in [3, 20, 32, 38] {
            var changed = bytes
            changed[position] = changed[position] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            #expect(!ScannableSecret.isValid(String(decoding: changed, as: UTF8.self)))
        }
        bytes.removeLast()
        #expect(!ScannableSecret.isValid(String(decoding: bytes, as: UTF8.self)))
        #expect(!ScannableSecret.isValid("ks_" + String(repeating: "A", count: 36)))
    }

    @Test
    func findsWholeTokensOnlyWithTheirLines() {
        let a = ScannableSecret.generate(), b = ScannableSecret.generate()
        let text = """
            config:
              okx_secret: "\(a)"
            export KEY=\(b) # bot
            not this: x\(a)
            nor this: \(a)Z
            nor a fake: ks_\(String(repeating: "0", count: 36))
            """
        let found = ScannableSecret.find(in: text)
        #expect(found.map(\.secret) == [a, b])
        #expect(found.map(\.line) == [2, 3])
        #expect(ScannableSecret.masked(a) == String(a.prefix(7)) + "…")
    }
}
