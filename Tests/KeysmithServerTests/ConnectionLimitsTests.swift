import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw TCP connection to the test server, for what an HTTP client library would not send. Its blocking reads run
/// on a thread of their own, never on the concurrency pool the servers of the other tests share.
final class RawConnection: Sendable {
    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port`; reads give up after `safety` (a bound against hanging, never a timing assertion).
    init(port: Int, safety: Int = 30) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        var timeout = timeval(tv_sec: safety, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
    }

    enum Outcome: Equatable {
        case closed
        case data(String)
        case gaveUp
    }

    /// Waits for what the server does next: send bytes, close the connection, or nothing until the safety bound.
    func next() async -> Outcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.readOnce()) }.start()
        }
    }

    private func readOnce() -> Outcome {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &buffer, buffer.count)
        if count > 0 { return .data(String(decoding: buffer.prefix(count), as: UTF8.self)) }
        if count == 0 || errno == ECONNRESET { return .closed }
        return .gaveUp
    }
}

@Suite struct ConnectionLimitsTests {
    @Test
    func aRequestHeadThatNeverCompletesIsClosed() async throws {
        try await Harness.run(configure: { $0.requestReadTimeout = .milliseconds(200) }) { h in
            let connection = try RawConnection(port: try #require(h.client.port))
            connection.send("GET /api/v5/public/time HTTP/1.1\r\nHost: keysmith\r\nX-Slow: ")
            #expect(await connection.next() == .closed)
            // Others are served all along.
            #expect(try await h.call(.get, "/api/v5/public/time", as: nil).code == "0")
        }
    }

    @Test
    func aBodyThatStopsArrivingIsClosed() async throws {
        try await Harness.run(configure: { $0.idleTimeout = .milliseconds(300) }) { h in
            let connection = try RawConnection(port: try #require(h.client.port))
            connection.send("POST /api/v5/asset/transfer HTTP/1.1\r\nHost: keysmith\r\nContent-Length: 100\r\n\r\n{\"ccy\":")
            #expect(await connection.next() == .closed)
            let errors = h.logs.text.split(separator: "\n").filter { $0.hasPrefix("error") }
            #expect(errors.isEmpty, "\(errors)")
        }
    }

    @Test
    func anIdleKeepAliveConnectionIsClosed() async throws {
        // Long enough for the first request to arrive on a loaded machine (the timer starts when the connection opens).
        try await Harness.run(configure: { $0.idleTimeout = .seconds(3) }) { h in
            let connection = try RawConnection(port: try #require(h.client.port))
            connection.send("GET /api/v5/public/time HTTP/1.1\r\nHost: keysmith\r\n\r\n")
            let first = await connection.next()
            guard case .data(let answer) = first else {
                Issue.record("no answer: \(first)")
                return
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            // The response is complete; nothing more is sent, and the server lets the connection go.
            var outcome = await connection.next()
            while case .data = outcome { outcome = await connection.next() }
            #expect(outcome == .closed)
        }
    }

    @Test
    func aWholeRequestInsideTheDeadlineIsServedOnAKeptAliveConnection() async throws {
        try await Harness.run(configure: { $0.requestReadTimeout = .seconds(30) }) { h in
            let connection = try RawConnection(port: try #require(h.client.port))
            for _ in 0..<3 {
                connection.send("GET /api/v5/public/time HTTP/1.1\r\nHost: keysmith\r\n\r\n")
                guard case .data(let answer) = await connection.next() else {
                    Issue.record("no answer")
                    return
                }
                #expect(answer.hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test
    func failedAuthenticationIsCountedPerIPv6Network() async throws {
        try await Harness.run(configure: { $0.failedAuthLockout = .init(threshold: 5) }) { h in
            let key = try await h.subAccountKey()
            let wrong = KeyCredentials(apiKey: key.apiKey, secretKey: KeyMaterial.secret(), passphrase: key.passphrase)
            // Five addresses inside one /64, one failure each.
            for host in 1...5 {
                let reply = try await h.call(.get, "/api/v5/account/config", as: wrong, from: "2001:db8:1:2::\(host)")
                #expect(reply.code == "50113")
            }
            let locked = try await h.call(.get, "/api/v5/account/config", as: key, from: "2001:db8:1:2:ffff::9")
            #expect(locked.code == "50011")
            #expect(locked.status == 429)
            // Another /64 is not affected.
            #expect(try await h.call(.get, "/api/v5/account/config", as: key, from: "2001:db8:1:3::1").code == "0")
        }
    }
}

/// A request target in absolute form is read as the same bytes in origin form: its authority is not signed, and
/// nothing else of it may be dropped or rewritten on the way to the signature check.
@Suite struct RequestTargetFormTests {
    /// Sends a GET of `signedPath` signed for `signedPath`, with `target` on the request line; returns the OKX code.
    private func code(
        _ h: Harness, key: KeyCredentials, method: String = "GET", signedPath: String, target: String, at offset: Int64
    ) async throws -> String {
        let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds + offset)
        let sign = OKXSigner(secret: key.secretKey).signature(timestamp: ts, method: method, requestPath: signedPath, body: "")
        let connection = try RawConnection(port: try #require(h.client.port))
        connection.send(
            "\(method) \(target) HTTP/1.1\r\nHost: keysmith\r\nOK-ACCESS-KEY: \(key.apiKey)\r\nOK-ACCESS-SIGN: \(sign)\r\n"
                + "OK-ACCESS-TIMESTAMP: \(ts)\r\nOK-ACCESS-PASSPHRASE: \(key.passphrase)\r\nConnection: close\r\n\r\n")
        var answer = ""
        while case .data(let more) = await connection.next() { answer += more }
        let body = try #require(answer.range(of: "\r\n\r\n").map { answer[$0.upperBound...] }, "no answer: \(answer)")
        if answer.hasPrefix("HTTP/1.1 400") { return "400 " + body }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
        return try #require(object["code"] as? String)
    }

    @Test
    func anAbsoluteTargetNamesItsOriginFormExactly() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let port = try #require(h.client.port)
            let path = "/api/v5/account/config"
            #expect(try await code(h, key: key, signedPath: path, target: "http://127.0.0.1:\(port)\(path)", at: 0) == "0")
            #expect(try await code(h, key: key, signedPath: path, target: "HTTP://keysmith.example\(path)", at: 1) == "0")
            let query = "/api/v5/asset/balances?ccy=USDT"
            #expect(try await code(h, key: key, signedPath: query, target: "http://127.0.0.1:\(port)\(query)", at: 2) == "0")
            // A fragment is no part of a request target. Signed without it, the request is refused in either form,
            // with the same answer (the absolute form's fragment used to be dropped before routing and the signature
            // check, so it verified).
            for (n, suffix) in ["#x", "#", "#?a=1"].enumerated() {
                for signed in [path, query] {
                    let offset = Int64(10 + 2 * (n * 2 + (signed == path ? 0 : 1)))
                    let origin = try await code(h, key: key, signedPath: signed, target: signed + suffix, at: offset)
                    let absolute = try await code(h, key: key, signedPath: signed, target: "http://127.0.0.1:\(port)\(signed)\(suffix)", at: offset + 1)
                    #expect(origin != "0")
                    #expect(absolute == origin, "\(signed)\(suffix)")
                }
            }
            // Targets in neither form are refused, by the HTTP parser or before the conversion could re-parse them
            // (the authority form of CONNECT, `keysmith:443`, was read as the path `443`).
            for (n, target) in ["x:\(path)", "a+b.c-d:\(path)?", "keysmith:443"].enumerated() {
                let answer = try await code(h, key: key, signedPath: path, target: target, at: Int64(40 + n))
                #expect(answer.hasPrefix("400 "), "\(target): \(answer)")
            }
            let connect = try await code(h, key: key, method: "CONNECT", signedPath: "keysmith:443", target: "keysmith:443", at: 50)
            #expect(connect.hasPrefix("400 "), "\(connect)")  // NIO sends no body to a CONNECT
        }
    }
}

@Suite struct ClientNetworkTests {
    @Test(arguments: [
        ("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"), ("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::"),
        ("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6"), ("2001:db8:1:2:3:4:5:6", 0, "::"),
        ("2001:db8:1:2:3:4:5:6", 96, "2001:db8:1:2:3:4::"), ("2001:db8:1:2:3:4:5:6", 200, "2001:db8:1:2:3:4:5:6"),
        ("192.0.2.77", 64, "192.0.2.77"), ("::ffff:192.0.2.77", 0, "192.0.2.77"),
    ])
    func masksIPv6ToItsNetwork(_ address: String, _ prefix: Int, _ expected: String) throws {
        #expect(try IPAddress(address).clientNetwork(ipv6PrefixLength: prefix).description == expected)
    }
}
