import Foundation
import KeysmithClient
import NIOHTTP1
import Testing

/// The client against a real server that answers with hostile values: it throws a decoding error naming the field,
/// or clamps the value, and never traps.
@Suite(.timeLimit(.minutes(1)))
struct HostileServerTests {
    static func isDecodingError(_ error: any Error, naming field: String) -> Bool {
        guard case .decoding(let reason) = error as? OKXClientError else { return false }
        return reason.contains(field)
    }

    @Test(arguments: [
        #""9223372036854775807""#, #""-9223372036854775808""#, "9223372036854775807", "-9223372036854775808",
        #""253402300800000""#, #""-1""#,
    ])
    func absurdServerTimesAreDecodingErrors(_ ts: String) async throws {
        let time = HostileServer.Answer(body: #"{"code":"0","msg":"","data":[{"ts":\#(ts)}]}"#)
        try await HostileServer.run({ _, _ in time }) { url, _ throws in
            let credentials = try OKXCredentials(apiKey: "key-1", secret: "9D1C2E3F4A5B6C7D8E9FA0B1C2D3E4F5", passphrase: "Pass-phrase-77")
            let client = OKXClient(configuration: .init(baseURL: url), credentials: credentials)
            await #expect { try await client.synchronizeClock() } throws: { Self.isDecodingError($0, naming: "ts") }
            await #expect { try await client.serverTime() } throws: { Self.isDecodingError($0, naming: "ts") }
            // A signed call measures the clock first: the same error, and no offset was kept.
            await #expect { try await client.accountConfiguration() } throws: { Self.isDecodingError($0, naming: "ts") }
            #expect(client.clockOffset == nil)
        }
    }

    @Test
    func theLatestRepresentableServerTimeIsUsable() async throws {
        let time = HostileServer.Answer(body: #"{"code":"0","msg":"","data":[{"ts":"253402300799999"}]}"#)
        try await HostileServer.run({ _, _ in time }) { url, _ throws in
            let client = OKXClient(baseURL: url)
            let offset = try await client.synchronizeClock()
            #expect(offset > .seconds(200_000_000_000))
            #expect(try await client.serverTime() == Date(timeIntervalSince1970: 253_402_300_799.999))
        }
    }

    @Test(arguments: ["inf", "-inf", "nan", "infinity", "1e300", "99999999999999999999", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "", "3600"])
    func hostileRetryAfterIsClampedOrIgnored(_ retryAfter: String) async throws {
        let limited = HostileServer.Answer(
            status: .tooManyRequests, headers: [("Retry-After", retryAfter)], body: #"{"code":"50011","msg":"Too Many Requests","data":[]}"#)
        let instruments = HostileServer.Answer(body: #"{"code":"0","msg":"","data":[]}"#)
        try await HostileServer.run({ _, count in count == 1 ? limited : instruments }) { url, requests throws in
            var configuration = OKXClient.Configuration(baseURL: url)
            configuration.retryBaseDelay = .milliseconds(1)
            // Whatever Retry-After says, no wait is longer than this.
            configuration.maxRetryDelay = .milliseconds(20)
            let client = OKXClient(configuration: configuration)
            #expect(try await client.instruments().isEmpty)
            #expect(requests.all.count == 2)
        }
    }

    @Test
    func aServerThatKeepsRefusingIsTriedOnlyAsOftenAsConfigured() async throws {
        let limited = HostileServer.Answer(
            status: .tooManyRequests, headers: [("Retry-After", "1e308")], body: #"{"code":"50011","msg":"Too Many Requests","data":[]}"#)
        try await HostileServer.run({ _, _ in limited }) { url, requests throws in
            var configuration = OKXClient.Configuration(baseURL: url)
            configuration.maxRetryDelay = .milliseconds(5)
            configuration.rateLimitRetries = 3
            let client = OKXClient(configuration: configuration)
            await #expect { try await client.instruments() } throws: { ($0 as? OKXClientError)?.code == "50011" }
            #expect(requests.all.count == 4)
        }
    }
}
