import Foundation
import KeysmithApp
import KeysmithCore

/// Finds the client's IP: the socket peer, unless the peer is a trusted proxy, in which case the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy. Untrusted peers' `X-Forwarded-For` is ignored,
/// so a client cannot claim an allowlisted address.
public struct ClientAddressResolver: Sendable {
    public let trustedProxies: IPAllowlist

    public init(trustedProxies: IPAllowlist) {
        self.trustedProxies = trustedProxies
    }

    public func clientIP(peer: IPAddress?, forwardedFor: String?) -> IPAddress? {
        guard let peer, !trustedProxies.isEmpty, trustedProxies.permits(peer), let forwardedFor else { return peer }
        var client = peer
        for entry in forwardedFor.split(separator: ",").reversed() {
            guard let address = try? IPAddress(entry.trimmingCharacters(in: .whitespaces)) else { return client }
            client = address
            if !trustedProxies.permits(address) { break }
        }
        return client
    }
}
