import Benchmark
import KeysmithApp
import KeysmithCore
import KeysmithServer
import NIOCore

// The hot path of every private request, measured without the network: verifying an OKX signature, and the whole
// authentication check (IP lockout, cached key lookup, timestamp, signature, passphrase, IP allowlist, replay guard
// for POSTs, environment, permission, the key's token bucket) on a cached key. Target: the whole check at most
// 5 µs median, with rate limiting and replay protection on.

let benchmarks: @Sendable () -> Void = {
    let secret = "22582BD0CFF14C41EDBF1AB98506286D"
    let passphrase = "Bench-pass-1"
    let now: Int64 = 1_763_900_000_000
    let timestamp = OKXTimestamp.string(fromMilliseconds: now)
    let target = "/api/v5/account/config"
    let signer = OKXSigner(secret: secret)
    let signature = signer.signature(timestamp: timestamp, method: "GET", requestPath: target, body: "")

    let verifier = PassphraseVerifier(pepper: Array(repeating: 7, count: 32))
    let cache = KeyCache()
    let account = Account(
        uid: "1000000000000001", parentUID: "1000000000000000", name: "bot01trader", type: .standard, level: .spotAndFutures,
        positionMode: .net, depositsAllowed: true, frozen: false, createdAt: now)
    let apiKey = "0d1d8e15-9406-4994-866a-b173b4b463c2"
    let key = APIKey(
        apiKey: apiKey, accountUID: account.uid, label: "bench", permissions: [.readOnly, .trade],
        allowlist: (try? IPAllowlist(okx: "10.0.0.0/8,192.0.2.7,2001:db8::/32")) ?? .empty, environment: .live, createdAt: now,
        // A limit the benchmark never reaches, so every request goes through the token bucket.
        rateLimit: .limit(requests: 1_000_000_000, periodMilliseconds: 1000))
    // A realistic cache: the benchmark key among 100 000 others.
    var others: [CachedKey] = []
    for i in 0..<100_000 {
        var other = key
        other.apiKey = "00000000-0000-4000-8000-\(String(i, radix: 16).leftPadded(to: 12))"
        others.append(CachedKey(key: other, account: account, secret: secret, passphraseVerifier: verifier.verifier(for: passphrase)))
    }
    others.append(CachedKey(key: key, account: account, secret: secret, passphraseVerifier: verifier.verifier(for: passphrase)))
    cache.apply(upserts: others, removals: [], sequence: 1)
    let authenticator = RequestAuthenticator(cache: cache, passphrases: verifier)
    let clientIP = try? IPAddress("192.0.2.7")

    func request(key: String = apiKey) -> SignedRequest {
        SignedRequest(
            accessKey: key, signature: signature, timestamp: timestamp, passphrase: passphrase, simulatedTrading: nil,
            method: "GET", target: target, body: ByteBuffer(), clientIP: clientIP)
    }

    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

    Benchmark("Signature verification (HMAC-SHA256, GET)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signer.isValid(signature: signature, timestamp: timestamp, method: "GET", requestPath: target, body: ""))
        }
    }

    Benchmark("Whole authentication check, cached key") { benchmark in
        let signed = request()
        for _ in benchmark.scaledIterations {
            blackHole(try? authenticator.authenticate(signed, now: now, requiring: .readOnly))
        }
    }

    // Distinct signed POSTs, so that each passes the replay guard (which records every one of them).
    let postTarget = "/api/v5/users/subaccount/apikey"
    let posts: [SignedRequest] = (0..<60_000).map { i in
        let body = #"{"subAcct":"bot01trader","label":"bench\#(i)","passphrase":"Abcdef1!"}"#
        return SignedRequest(
            accessKey: apiKey, signature: signer.signature(timestamp: timestamp, method: "POST", requestPath: postTarget, body: body),
            timestamp: timestamp, passphrase: passphrase, simulatedTrading: nil, method: "POST", target: postTarget,
            body: ByteBuffer(string: body), clientIP: clientIP)
    }
    let postFamily = EndpointFamily.of(method: "POST", routePath: postTarget)

    Benchmark("Whole authentication check, signed POST through the replay guard", configuration: .init(maxIterations: 50_000)) {
        benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(try? authenticator.authenticate(posts[index % posts.count], now: now, requiring: .trade, family: postFamily))
            index += 1
        }
    }

    Benchmark("Rejection of an unknown key") { benchmark in
        let signed = request(key: "ffffffff-ffff-4fff-bfff-ffffffffffff")
        for _ in benchmark.scaledIterations {
            blackHole(try? authenticator.authenticate(signed, now: now, requiring: .readOnly))
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
