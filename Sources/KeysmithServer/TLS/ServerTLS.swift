import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
import KeysmithStore

/// The certificate chain and private key `serve --tls-cert/--tls-key` serves HTTPS and WSS with (PEM files).
public struct ServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// The server's TLS context: TLS 1.2 or later, the chain as the file lists it (server certificate first).
    /// Reads the certificate chain and key, throwing what is wrong with them (`serve` checks before it starts).
    public func check() throws { _ = try context() }

    func context() throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ServerTLSError("cannot read a PEM certificate chain from \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else { throw ServerTLSError("\(certificatePath) holds no PEM certificate") }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ServerTLSError("cannot read a PEM private key from \(keyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLSError("the certificate in \(certificatePath) and the key in \(keyPath) do not make a TLS context: \(error)")
        }
    }
}

public struct ServerTLSError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// `keysmith tls init`: a local certificate authority and a server certificate it signs, for development over
/// HTTPS and WSS. Clients trust the CA's certificate (`SSL_CERT_FILE`, ccxt's `cafile`, a browser's authority
/// list); the CA's key stays in the folder, so `init` again issues a new server certificate under the same CA.
public enum DevelopmentCertificates {
    public struct Files: Sendable, Encodable {
        /// The CA certificate clients trust.
        public let caCert: String
        /// The server's certificate chain (server certificate, then the CA's) and key, for `serve`.
        public let cert: String
        public let key: String
        public let hosts: [String]
        public let notAfter: String
        public let caCreated: Bool
    }

    /// Writes `ca.pem`, `ca-key.pem`, `server.pem` and `server-key.pem` into `folder` (mode 0600).
    /// The server certificate names `hosts` (DNS names or IP addresses) and is valid for `days`.
    public static func make(in folder: URL, hosts: [String], days: Int = 825, now: Date = Date()) throws -> Files {
        if !FileManager.default.fileExists(atPath: folder.path) { try PrivateFile.makeFolder(folder) }
        let caCertURL = folder.appendingPathComponent("ca.pem"), caKeyURL = folder.appendingPathComponent("ca-key.pem")
        let certURL = folder.appendingPathComponent("server.pem"), keyURL = folder.appendingPathComponent("server-key.pem")

        let authority: (certificate: Certificate, key: P256.Signing.PrivateKey)
        var caCreated = false
        if FileManager.default.fileExists(atPath: caCertURL.path), FileManager.default.fileExists(atPath: caKeyURL.path) {
            let key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOf: caKeyURL, encoding: .utf8))
            let certificate = try Certificate(pemEncoded: try String(contentsOf: caCertURL, encoding: .utf8))
            guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
                throw ServerTLSError("\(caCertURL.path) and \(caKeyURL.path) do not belong together; remove both to make a new CA")
            }
            authority = (certificate, key)
        } else {
            authority = try makeAuthority(now: now)
            try write(authority.key.pemRepresentation, to: caKeyURL)
            try write(try authority.certificate.serializeAsPEM().pemString, to: caCertURL)
            caCreated = true
        }

        let serverKey = P256.Signing.PrivateKey()
        let notAfter = now.addingTimeInterval(TimeInterval(days) * 86_400)
        let names: [GeneralName] = try hosts.map { host in
            if let bytes = ipBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))) }
            guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "*") }) else {
                throw ServerTLSError("'\(host)' is neither a DNS name nor an IP address")
            }
            return .dnsName(host)
        }
        let subject = try DistinguishedName {
            OrganizationName("Keysmith development")
            CommonName(hosts.first ?? "localhost")
        }
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter, issuer: authority.certificate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: .init(serverKey.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: authority.certificate.publicKey).keyIdentifier)
            },
            issuerPrivateKey: .init(authority.key))
        try write(serverKey.pemRepresentation, to: keyURL)
        let chain = try server.serializeAsPEM().pemString + "\n" + authority.certificate.serializeAsPEM().pemString + "\n"
        try write(chain, to: certURL)
        return Files(
            caCert: caCertURL.path, cert: certURL.path, key: keyURL.path, hosts: hosts,
            notAfter: ISO8601DateFormatter().string(from: notAfter), caCreated: caCreated)
    }

    private static func makeAuthority(now: Date) throws -> (certificate: Certificate, key: P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Keysmith development")
            CommonName("Keysmith local CA")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400), issuer: name,
            subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        return (certificate, key)
    }

    /// The bytes of an IPv4 or IPv6 address, or nil for anything else.
    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Replaces a file, private to the owner from its first byte (``PrivateFile``).
    private static func write(_ text: String, to url: URL) throws {
        try PrivateFile.replace(url, contents: Data(text.utf8))
    }
}
