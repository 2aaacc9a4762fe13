import Foundation
import KeysmithClient
import Testing

/// Which base URLs would send requests (and with them the passphrase) unencrypted across a network.
struct BaseURLTests {
    @Test(arguments: [
        "http://127.0.0.1:8080", "http://127.255.0.9/", "http://[::1]:8080/api", "http://[::ffff:127.0.0.1]/", "http://localhost:1",
        "http://LocalHost", "https://203.0.113.5", "https://www.okx.com", "HTTPS://www.okx.com",
    ])
    func staysOnThisMachineOrIsEncrypted(_ text: String) throws {
        #expect(!OKXClient.sendsInClear(try #require(URL(string: text))))
    }

    @Test(arguments: [
        "http://203.0.113.5:1", "http://www.okx.com", "HTTP://203.0.113.5", "http://128.0.0.1", "http://[::2]/", "http://[::1%25lo]/",
        "http://127.1/", "http://2130706433/", "http://localhost./", "http://127.0.0.1.nip.io/", "http://127.0.0.1@evil.example/",
        "http://%31%32%37.0.0.1/", "http://127.0.0.01/",
    ])
    func plainHTTPElsewhereIsInClear(_ text: String) throws {
        #expect(OKXClient.sendsInClear(try #require(URL(string: text))))
    }
}
