import KeysmithCore
import Testing

struct OKXTimestampTests {
    // Expected values from Python's datetime, independently of this parser.
    @Test(arguments: [
        ("2020-12-08T09:08:57.715Z", Int64(1_607_418_537_715)),
        ("1970-01-01T00:00:00.000Z", 0),
        ("2000-02-29T23:59:59.999Z", 951_868_799_999),
        ("2024-12-31T12:00:00.500Z", 1_735_646_400_500),
    ])
    func parses(_ text: String, _ expected: Int64) {
        #expect(OKXTimestamp.milliseconds(from: text) == expected)
    }

    @Test(arguments: [
        "", "1607418537715", "2020-12-08 09:08:57.715Z", "2020-12-08T09:08:57.715", "2020-12-08T09:08:57.715+00:00",
        "2020-13-08T09:08:57.715Z", "2021-02-29T09:08:57.715Z", "2020-12-08T24:00:00.000Z", "2020-12-08T09:60:00.000Z",
        "2020-12-08T09:08:57.Z", "2020-12-08T09:08:57.1234567890Z", "2020-12-08T09:08:5a.715Z", "１９７０-01-01T00:00:00.000Z",
        // One instant, one spelling: only OKX's three fraction digits.
        "2024-12-31T12:00:00Z", "2024-12-31T12:00:00.5Z", "2024-12-31T12:00:00.50Z", "2024-12-31T12:00:00.5000Z",
        "2024-12-31T12:00:00.500123Z", "2024-12-31T12:00:00.500000000Z", "2024-12-31t12:00:00.500Z", "2024-12-31T12:00:00.500z",
        "+024-12-31T12:00:00.500Z", "2024-12-31T12:00:00,500Z", "2024-12-31T12:00:00.5 0Z",
    ])
    func rejects(_ text: String) {
        #expect(OKXTimestamp.milliseconds(from: text) == nil)
    }

    @Test(arguments: [Int64(0), 951_868_799_999, 1_607_418_537_715, 4_102_444_800_000])
    func formatsAndParsesBack(_ value: Int64) {
        #expect(OKXTimestamp.milliseconds(from: OKXTimestamp.string(fromMilliseconds: value)) == value)
    }

    @Test
    func formatsLikeTheClients() {
        #expect(OKXTimestamp.string(fromMilliseconds: 1_607_418_537_715) == "2020-12-08T09:08:57.715Z")
        #expect(OKXTimestamp.string(fromMilliseconds: 5) == "1970-01-01T00:00:00.005Z")
    }
}
