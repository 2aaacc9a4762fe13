import Foundation
import KeysmithCore

extension OKXClient {
    /// Whether requests to `baseURL` would cross a network unencrypted: plain `http` to any host but this machine.
    /// Every signed request carries the key's passphrase in a header, so callers that take a URL from a user (the
    /// `keysmith link` commands) refuse such an address unless the user explicitly accepts it.
    ///
    /// ```swift
    /// OKXClient.sendsInClear(URL(string: "http://127.0.0.1:8080")!)   // false: loopback
    /// OKXClient.sendsInClear(URL(string: "http://203.0.113.5")!)      // true
    /// OKXClient.sendsInClear(URL(string: "https://www.okx.com")!)     // false
    /// ```
    public static func sendsInClear(_ baseURL: URL) -> Bool {
        guard baseURL.scheme?.lowercased() == "http" else { return false }
        return !isLoopback(host: baseURL.host(percentEncoded: true) ?? "")
    }

    /// True for `localhost`, an address in 127.0.0.0/8 and `::1` (also IPv4-mapped), written in their plain forms:
    /// anything a resolver could turn into another address (`127.1`, `0x7f.0.0.1`, `localhost.`, a zone, a
    /// percent-encoded name) is not loopback here.
    public static func isLoopback(host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard !host.contains("%"), let address = try? IPAddress(host) else { return false }
        if address.isIPv4 { return (address.low >> 24) & 0xFF == 127 }
        return address.high == 0 && address.low == 1
    }
}
